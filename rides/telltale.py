"""Words that say what a ride is about, and how text is compared with them.

A driver reads the drop-off address and the rider's name; neither may tell that the rider
is a survivor, where she is going for help or which office sends her. Text is compared in
a normal form — accents removed (NFKD), case folded, every run of characters that is not a
letter or digit turned into one space — so "Shelter KDRT", "SHELTER-kdrt", "Pusat
Pelayanan Terpadu" and "pusat  pelayanan\tterpadu" read the same, and a phrase matches
only on word boundaries ("ppa" in "Unit PPA", not in "Ppakuan"). The agency's own
abbreviations are matched inside longer words too ("ppapp", "p2tp2a"), as they are never
part of an ordinary word.

The list covers the agency's names and services in Indonesian and English. Used by the
booking rules (a typed address that trips it is refused, with what to do instead) and by
the partner payload's last check (rides/pipeline/payload.py), which never sends such text.
"""

from __future__ import annotations

import re
import unicodedata

# Whole words or phrases, written in normal form (see `normal`).
PHRASES = (
    # Who travels
    "korban",
    "penyintas",
    "victim",
    "victims",
    "survivor",
    "survivors",
    # What happened
    "kdrt",
    "kekerasan",
    "kekerasan dalam rumah tangga",
    "pemerkosaan",
    "perkosaan",
    "pelecehan",
    "pencabulan",
    "perdagangan orang",
    "tppo",
    "trafficking",
    "domestic violence",
    "abuse",
    "rape",
    # Where help is given
    "ppa",
    "unit ppa",
    "uppa",
    "upt ppa",
    "perlindungan perempuan",
    "perlindungan anak",
    "perlindungan perempuan dan anak",
    "pemberdayaan perempuan",
    "women and children protection",
    "child protection",
    "pusat pelayanan terpadu",
    "ppt",
    "pkt",
    "visum",
    "visum et repertum",
    "forensik",
    "poli forensik",
    "forensic",
    "rumah aman",
    "rumah perlindungan",
    "safe house",
    "safehouse",
    "shelter",
    "rptc",
    "rpsa",
    "lbh apik",
    "komnas perempuan",
    "kpai",
    "lpsk",
    "dinas ppapp",
    "dppapp",
)
# Abbreviations that never occur inside an ordinary word: matched inside longer words too.
EMBEDDED = ("ppapp", "p2tp2a")

_NOT_WORD = re.compile(r"[^0-9a-z]+")


def normal(text: str) -> str:
    """`text` without accents, in lower case, with single spaces between its words."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _NOT_WORD.sub(" ", plain.casefold()).strip()


def _phrase_pattern() -> re.Pattern:
    words = sorted({normal(phrase) for phrase in PHRASES}, key=len, reverse=True)
    embedded = sorted(EMBEDDED, key=len, reverse=True)
    alternatives = [rf"(?<![0-9a-z]){re.escape(word)}(?![0-9a-z])" for word in words]
    alternatives += [re.escape(word) for word in embedded]
    return re.compile("|".join(alternatives))


_PATTERN = _phrase_pattern()


def telltale_words(text: str) -> list[str]:
    """The tell-tale words and phrases in `text` (normal form, in order of appearance)."""
    return [match.group(0) for match in _PATTERN.finditer(normal(text))]


def has_telltale_words(text: str) -> bool:
    return _PATTERN.search(normal(text)) is not None


def contains_value(text: str, value: str) -> bool:
    """Whether `value` (a case code, a name) appears in `text`, however it is written:
    "JKT-2026-000123" is found in "jkt 2026 000123" and in "Jkt/2026/000123"."""
    wanted = normal(value)
    if not wanted:
        return False
    return re.search(rf"(?<![0-9a-z]){re.escape(wanted)}(?![0-9a-z])", normal(text)) is not None
