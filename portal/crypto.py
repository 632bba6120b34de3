"""Encryption at rest for survivors' protected fields and for partner secrets.

Keys come from FIELD_ENCRYPTION_KEYS, newest first (MultiFernet): the newest encrypts,
every listed key decrypts, so a key is rotated by prepending a new one and running
`python manage.py rotate_encryption_keys`. The database only ever holds ciphertext
(Fernet tokens: AES-128-CBC with HMAC-SHA256, base64), which a raw SQL select shows.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "fernet:"


@lru_cache(maxsize=4)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("Setting FIELD_ENCRYPTION_KEYS is missing.")
    return MultiFernet([Fernet(key) for key in keys])


def fernet() -> MultiFernet:
    return _fernet_for(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt_text(plain: str) -> str:
    return PREFIX + fernet().encrypt(plain.encode("utf-8")).decode("ascii")


def decrypt_text(stored: str) -> str:
    if not stored.startswith(PREFIX):
        raise ValueError("stored value is not ciphertext")
    try:
        return fernet().decrypt(stored[len(PREFIX) :].encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise ValueError("ciphertext cannot be decrypted with the configured keys") from exc


def rotate_text(stored: str) -> str:
    """Re-encrypts a stored value under the newest key (no-op in meaning)."""
    token = stored[len(PREFIX) :].encode("ascii")
    return PREFIX + fernet().rotate(token).decode("ascii")


class EncryptedTextField(models.TextField):
    """A text value stored as a Fernet token; Python code sees plain text.

    Not searchable or sortable in SQL, by design. Empty strings stay empty (no secret
    to protect, and forms can tell "not given" apart).
    """

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return self.decode(decrypt_text(value))

    def get_prep_value(self, value):
        if value is None:
            return None
        value = self.encode(value)
        if value == "":
            return value
        return encrypt_text(str(value))

    def to_python(self, value):
        if isinstance(value, str) and value.startswith(PREFIX):
            return self.decode(decrypt_text(value))
        return value

    def encode(self, value):
        return value

    def decode(self, text: str):
        return text


class EncryptedDateField(EncryptedTextField):
    """A date stored encrypted (e.g. a birth date)."""

    def encode(self, value):
        if isinstance(value, dt.date):
            return value.isoformat()
        return value

    def decode(self, text: str):
        return dt.date.fromisoformat(text)

    def to_python(self, value):
        value = super().to_python(value)
        if isinstance(value, str) and value:
            return dt.date.fromisoformat(value)
        return value


class EncryptedJSONField(EncryptedTextField):
    """A small JSON document stored encrypted (e.g. a point with an address)."""

    def encode(self, value):
        if isinstance(value, dict | list):
            return json.dumps(value, ensure_ascii=False, sort_keys=True)
        return value

    def decode(self, text: str):
        return json.loads(text)
