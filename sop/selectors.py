"""The SOP values now, as one immutable snapshot (`current()`), and the change history.

`current()` is what every rule reads: the value set in the portal, else the server
setting named in sop/registry.py. It is kept for a few seconds per process, so a page or
a dispatch that asks several times makes one query at most; a change made in this
process empties it at once (and again on commit), a changed server setting too
(sop/apps.py). Another process sees a change within CACHE_SECONDS.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from portal.keyset import KeysetPage, keyset_page
from sop.models import SopChange, SopValue
from sop.registry import KEYS

CACHE_SECONDS = 5.0
HISTORY_PAGE_SIZE = 20


@dataclass(frozen=True)
class SopSnapshot:
    """The SOP's values at one moment. `set_values` holds what the portal set (by key,
    and by (key, unit id) for single units); everything else is its default."""

    set_values: Mapping[str, object] = field(default_factory=dict)
    unit_values: Mapping[tuple[str, int], object] = field(default_factory=dict)
    defaults: Mapping[str, object] = field(default_factory=dict)

    def value(self, key: str):
        return self.set_values.get(key, self.defaults[key])

    def is_set(self, key: str) -> bool:
        return key in self.set_values

    def for_unit(self, key: str, unit) -> object:
        """A per-unit key's value for `unit` (a Unit, its id, or None for the default)."""
        unit_id = getattr(unit, "pk", unit)
        if unit_id is not None and (key, unit_id) in self.unit_values:
            return self.unit_values[(key, unit_id)]
        return self.value(key)

    def unit_value_set(self, key: str, unit) -> object | None:
        """What the portal set for this unit alone; None when it uses the default."""
        return self.unit_values.get((key, getattr(unit, "pk", unit)))

    @property
    def fare_ceiling(self) -> int:
        return self.value("fare_ceiling")

    @property
    def service_hours(self) -> str:
        return self.value("service_hours")

    @property
    def approval_margin_percent(self) -> int:
        return self.value("approval_margin_percent")

    @property
    def hold_margin_percent(self) -> int:
        return self.value("hold_margin_percent")

    def unit_monthly_budget(self, unit) -> int:
        """The unit's monthly budget in rupiah; 0 means no limit."""
        return self.for_unit("unit_monthly_budget", unit)


_cache: dict[str, tuple[float, SopSnapshot]] = {}


def cache_clear() -> None:
    _cache.clear()


def _load() -> SopSnapshot:
    set_values, unit_values = {}, {}
    for key, unit_id, value in SopValue.objects.filter(key__in=KEYS).values_list(
        "key", "unit_id", "value"
    ):
        if unit_id is None:
            set_values[key] = value
        elif KEYS[key].per_unit:
            unit_values[(key, unit_id)] = value
    return SopSnapshot(
        set_values=MappingProxyType(set_values),
        unit_values=MappingProxyType(unit_values),
        defaults=MappingProxyType({key: item.default() for key, item in KEYS.items()}),
    )


def current() -> SopSnapshot:
    """The SOP's values now (see the module's docstring for how fresh)."""
    kept = _cache.get("snapshot")
    now = time.monotonic()
    if kept is not None and now - kept[0] < CACHE_SECONDS:
        return kept[1]
    snapshot = _load()
    _cache["snapshot"] = (now, snapshot)
    return snapshot


def sop_history_page(*, after: str | None = None, before: str | None = None) -> KeysetPage:
    """The change history, newest first, one page."""
    rows = SopChange.objects.select_related("changed_by", "unit")
    return keyset_page(rows, field="changed_at", size=HISTORY_PAGE_SIZE, after=after, before=before)
