"""Per-case data keys (envelope encryption) and the process's bounded cache of them.

Each case has its own random Fernet key, stored only wrapped (encrypted under the master
keys of FIELD_ENCRYPTION_KEYS) in `cases.CaseKey`. The case's protected values are sealed
with it, so destroying that one row (retention) makes every value of the case unreadable
in every table, the append-only ones included, without touching them. Rotating the master
keys rewraps the data keys; the values sealed with them stay as they are.

Unwrapped keys are kept in a small per-process cache (bounded, and forgotten after
DATA_KEY_CACHE_SECONDS so a key destroyed by another process stops working everywhere
soon after). List pages load the keys they need in one query (`load_case_keys`).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from cryptography.fernet import Fernet
from django.apps import apps
from django.conf import settings

CACHE_SIZE = 2048

_lock = threading.Lock()
_cache: OrderedDict[int, tuple[float, Fernet]] = OrderedDict()


def _key_model():
    # The key table belongs to cases; the shared field code reaches it through the app
    # registry so that portal/ never imports an app above it.
    return apps.get_model("cases", "CaseKey")


def _ttl() -> float:
    return float(getattr(settings, "DATA_KEY_CACHE_SECONDS", 300))


def _remember(case_id: int, key: Fernet) -> Fernet:
    with _lock:
        _cache[case_id] = (time.monotonic() + _ttl(), key)
        _cache.move_to_end(case_id)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return key


def _cached(case_id: int) -> Fernet | None:
    with _lock:
        found = _cache.get(case_id)
        if found is None:
            return None
        expires, key = found
        if expires < time.monotonic():
            del _cache[case_id]
            return None
        _cache.move_to_end(case_id)
        return key


def forget_case_key(case_id: int | None = None) -> None:
    """Drops one case's key (or every key) from this process's cache."""
    with _lock:
        if case_id is None:
            _cache.clear()
        else:
            _cache.pop(case_id, None)


def new_data_key() -> str:
    """A fresh random data key (the plain key; store it only wrapped)."""
    return Fernet.generate_key().decode("ascii")


def _unwrap(case_id: int, key_row) -> Fernet:
    return _remember(case_id, Fernet(key_row.key.encode("ascii")))


def case_key(case_id: int) -> Fernet | None:
    """The case's data key, or None when the case has none (never had one, or destroyed)."""
    key = _cached(case_id)
    if key is not None:
        return key
    row = _key_model().objects.filter(case_id=case_id).first()
    return None if row is None else _unwrap(case_id, row)


def case_key_for_writing(case_id: int) -> Fernet:
    """The case's data key, created on first use (cases older than data keys get theirs
    the first time one of their values is written)."""
    key = case_key(case_id)
    if key is not None:
        return key
    row, _ = _key_model().objects.get_or_create(case_id=case_id, defaults={"key": new_data_key()})
    return _unwrap(case_id, row)


def create_case_key(case_id: int) -> Fernet:
    """Gives a new case its data key."""
    row = _key_model().objects.create(case_id=case_id, key=new_data_key())
    return _unwrap(case_id, row)


def load_case_keys(case_ids) -> None:
    """Loads the keys of these cases that the cache lacks, in one query (list pages)."""
    missing = {cid for cid in case_ids if cid is not None and _cached(cid) is None}
    if not missing:
        return
    for row in _key_model().objects.filter(case_id__in=missing):
        _unwrap(row.case_id, row)
