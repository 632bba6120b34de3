"""The password rule of the portal beyond Django's own validators: no password built
from the words every Jakartan would try first (accounts/indonesian_passwords.txt) with
digits or signs around or between them — "jakarta2026", "Persija1928!", "bismillah123" —
also written with digits for letters ("j4k4rt4")."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

WORDS_FILE = Path(__file__).with_name("indonesian_passwords.txt")
LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)
AGENCY_NAMES_WITH_DIGITS = ("p2tp2a",)


@lru_cache(maxsize=1)
def words() -> frozenset[str]:
    lines = WORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().lower() for line in lines if line.strip() and not line.startswith("#")
    )


def _made_of_words(letters: str, known: frozenset[str]) -> bool:
    """Whether `letters` is nothing but listed words one after another."""
    if not letters:
        return False
    reachable = [True] + [False] * len(letters)
    for end in range(1, len(letters) + 1):
        reachable[end] = any(
            reachable[start] and letters[start:end] in known for start in range(end)
        )
    return reachable[-1]


def is_context_password(password: str) -> bool:
    lowered = password.lower()
    named_agency = False
    for name in AGENCY_NAMES_WITH_DIGITS:  # a listed word with digits in it
        named_agency = named_agency or name in lowered
        lowered = lowered.replace(name, " ")
    known = words() | {" "}
    for text in (lowered, lowered.translate(LEET)):  # jakarta2026, j4k4rt4
        letters = re.sub(r" +", " ", re.sub(r"[^a-z ]", "", text))
        if not letters.strip():
            if named_agency:
                return True
            continue
        if _made_of_words(letters, known):
            return True
    return False


class IndonesianContextValidator:
    """AUTH_PASSWORD_VALIDATORS entry: refuses a password made of the listed words."""

    def validate(self, password, user=None):
        if is_context_password(password):
            raise ValidationError(
                _(
                    "This password is made of words that are guessed first (such as "
                    "jakarta, bismillah or persija, with digits). Choose words that say "
                    "nothing about Jakarta, faith or the agency."
                ),
                code="password_indonesian_context",
            )

    def get_help_text(self):
        return _(
            "Your password cannot be built from words that are guessed first, such as "
            "jakarta2026 or bismillah123."
        )
