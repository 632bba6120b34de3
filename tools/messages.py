"""Extracts the translatable texts into locale/*/LC_MESSAGES/django.po, as committed.

    .venv/bin/python tools/messages.py        (or: make messages)

Runs Django's makemessages for Indonesian and English, then rewrites both catalogs the
way they are kept in the repository (Babel, lines up to 100 characters) and drops the
guesses makemessages marks "fuzzy": a guessed translation is worse than none, and
tests/test_translations.py lists every message still without its Indonesian text.
"""

import os
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("id", "en")


def rewrite(path: Path, language: str) -> list[str]:
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    for message in catalog:
        if message.id and "fuzzy" in message.flags:
            message.flags.discard("fuzzy")
            message.string = ("",) * len(message.id) if isinstance(message.id, tuple) else ""
            message.previous_id = ()
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, omit_header=False)
    return [
        message.id[0] if isinstance(message.id, tuple) else message.id
        for message in catalog
        if message.id
        and not (message.string if isinstance(message.string, str) else all(message.string))
    ]


def main() -> int:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="portal.settings_test")
    command = [sys.executable, "manage.py", "makemessages", "--no-obsolete"]
    for language in LANGUAGES:
        command += ["-l", language]
    subprocess.run(command, cwd=ROOT, env=env, check=True)
    for language in LANGUAGES:
        missing = rewrite(ROOT / "locale" / language / "LC_MESSAGES" / "django.po", language)
        if language == "id":
            for text in missing:
                print(f"needs Indonesian: {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
