"""Encryption at rest for survivors' protected fields and for partner secrets.

Keys come from FIELD_ENCRYPTION_KEYS, newest first (MultiFernet): the newest encrypts,
every listed key decrypts, so a key is rotated by prepending a new one and running
`python manage.py rotate_encryption_keys`. The database only ever holds ciphertext
(Fernet tokens: AES-128-CBC with HMAC-SHA256, base64), which a raw SQL select shows.

A model whose values belong to a case names the path to that case's id in
`case_key_owner` (e.g. "ride.case_id"); its encrypted fields are then sealed with the
case's own data key (portal/data_keys.py), stored as `case:<case id>:<token>`, and read
lazily on first access, so a list page loads the keys of all its rows in one query. A
value whose data key was destroyed (retention) reads as REMOVED. Values written under the
master keys before data keys existed (`fernet:<token>`) still read.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models.query_utils import DeferredAttribute
from django.utils.translation import gettext_lazy as _

from portal import data_keys

PREFIX = "fernet:"
CASE_PREFIX = "case:"
REMOVED = _("[removed under retention]")


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


class Sealed(str):
    """A value as stored under a case's data key, not decrypted yet."""

    @property
    def case_id(self) -> int:
        return int(self[len(CASE_PREFIX) :].split(":", 1)[0])

    @property
    def token(self) -> bytes:
        return self[len(CASE_PREFIX) :].split(":", 1)[1].encode("ascii")


def seal_text(plain: str, case_id: int) -> Sealed:
    token = data_keys.case_key_for_writing(case_id).encrypt(plain.encode("utf-8"))
    return Sealed(f"{CASE_PREFIX}{case_id}:{token.decode('ascii')}")


def unseal_text(sealed: Sealed) -> str | None:
    """The plain text, or None when the case's data key no longer exists."""
    key = data_keys.case_key(sealed.case_id)
    if key is None:
        return None
    try:
        return key.decrypt(sealed.token).decode("utf-8")
    except InvalidToken as exc:
        raise ValueError("ciphertext cannot be decrypted with the case's data key") from exc


def case_id_of(instance) -> int | None:
    """The id of the case whose data key seals this row's values (None: the master keys)."""
    path = getattr(type(instance), "case_key_owner", None)
    if not path:
        return None
    target = instance
    for name in path.split("."):
        target = getattr(target, name, None)
        if target is None:
            return None
    return target


def load_keys_for(rows) -> None:
    """Loads in one query the data keys of every case whose key seals a value of these
    rows (read, not decrypted yet): a list of rows of many cases would otherwise read
    one key at a time, each time the process's cached keys expire."""
    data_keys.load_case_keys(
        value.case_id for row in rows for value in vars(row).values() if isinstance(value, Sealed)
    )


class SealedAttribute(DeferredAttribute):
    """Decrypts a case-sealed value on first access (its key then usually comes from the
    cache a list page filled in one query) and keeps the plain value on the instance."""

    def __get__(self, instance, cls=None):
        value = super().__get__(instance, cls)
        if instance is None or not isinstance(value, Sealed):
            return value
        plain = unseal_text(value)
        value = self.field.removed_value() if plain is None else self.field.decode(plain)
        instance.__dict__[self.field.attname] = value
        return value

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = value


class EncryptedTextField(models.TextField):
    """A text value stored as a Fernet token; Python code sees plain text.

    Not searchable or sortable in SQL, by design. Empty strings stay empty (no secret
    to protect, and forms can tell "not given" apart). Sealed with the row's case key
    when its model declares `case_key_owner`, else with the master keys.
    """

    descriptor_class = SealedAttribute

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        if value.startswith(CASE_PREFIX):
            return Sealed(value)  # decrypted on access (SealedAttribute)
        return self.decode(decrypt_text(value))

    def pre_save(self, model_instance, add):
        value = model_instance.__dict__.get(self.attname)
        if value is None or isinstance(value, Sealed):
            return value
        case_id = case_id_of(model_instance)
        encoded = self.encode(value)
        if case_id is None or encoded == "":
            return value
        return seal_text(str(encoded), case_id)

    def get_prep_value(self, value):
        if value is None or isinstance(value, Sealed):
            return value
        value = self.encode(value)
        if value == "":
            return value
        return encrypt_text(str(value))

    def to_python(self, value):
        if isinstance(value, Sealed):
            plain = unseal_text(value)
            return self.removed_value() if plain is None else self.decode(plain)
        if isinstance(value, str) and value.startswith(PREFIX):
            return self.decode(decrypt_text(value))
        return value

    def removed_value(self):
        """What a value reads as once its case's data key is destroyed."""
        return str(REMOVED)

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

    def removed_value(self):
        return None

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

    def removed_value(self):
        # Every JSON value of the portal is a point: {"latitude", "longitude", "address"}.
        return {"latitude": None, "longitude": None, "address": str(REMOVED)}
