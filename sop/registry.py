"""The SOP values the portal knows: each one's key, type, bounds, texts and the server
setting that gives its default. Nothing here reads the database.

Why a registry of typed keys rather than one model field per value: the values are few
but keep coming (the supervision issue's thresholds are next), and each needs the same
things — a default from the server's settings, bounds, a text saying what it does, an
entry in the change history, a line on the admin page. With a registry, a new value is one
`SopKey` here: no migration, no new column in the history, no new form code; the stored
value is JSON checked against its key on every write (sop/services.py), so the database
never holds a value its key would refuse. A key marked `per_unit` may also be set for
single units (`unit_monthly_budget` of one unit); the unit-wide value stays the default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from portal.hours import parse_service_hours
from portal.templatetags.portal_format import rupiah

RUPIAH = "rupiah"
PERCENT = "percent"
HOURS = "hours"
MINUTES = "minutes"
METRES = "metres"

# The ways people write an amount: "250000", "250.000", "Rp 250.000", "250 000".
_AMOUNT = re.compile(r"^(?:rp\.?)?\s*(\d{1,3}(?:[.\s]\d{3})+|\d+)$", re.IGNORECASE)


@dataclass(frozen=True)
class SopKey:
    key: str
    label: Promise
    help_text: Promise
    setting: str  # the server setting (.env) whose value is the default
    kind: str  # RUPIAH, PERCENT, HOURS, MINUTES or METRES
    minimum: int = 0
    maximum: int | None = None
    per_unit: bool = False

    def default(self):
        return getattr(settings, self.setting)

    def parse(self, raw):
        """The value `raw` (typed in a form, or given by code) as stored; ValidationError
        with a message in the user's language when it is not one this key takes."""
        if self.kind == HOURS:
            text = str(raw).strip()
            try:
                start, end = parse_service_hours(text)
            except ValueError:
                raise ValidationError(
                    _("Write the hours like 06:00-21:00 (start and end, Jakarta time).")
                ) from None
            return f"{start:%H:%M}-{end:%H:%M}"
        number = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
        if number is None and isinstance(raw, str):
            match = _AMOUNT.match(raw.strip())
            number = int(re.sub(r"[.\s]", "", match.group(1))) if match else None
        if number is None:
            if self.kind == PERCENT:
                raise ValidationError(_("Write a whole percentage, e.g. 10."))
            if self.kind == MINUTES:
                raise ValidationError(_("Write a whole number of minutes, e.g. 15."))
            if self.kind == METRES:
                raise ValidationError(_("Write a whole number of metres, e.g. 1500."))
            raise ValidationError(_("Write a whole amount of rupiah, e.g. 250000."))
        if number < self.minimum or (self.maximum is not None and number > self.maximum):
            raise ValidationError(
                _("Choose a value from %(low)s to %(high)s.")
                % {"low": self.display(self.minimum), "high": self.display(self.maximum)}
            )
        return number

    def display(self, value) -> str:
        """The value as people read it (Rp 250.000, 10%, 06:00-21:00)."""
        if value is None:
            return ""
        if self.kind == RUPIAH:
            return rupiah(value)
        if self.kind == PERCENT:
            return f"{value}%"
        if self.kind == MINUTES:
            return ngettext("%(n)s minute", "%(n)s minutes", value) % {"n": value}
        if self.kind == METRES:
            return _("%(n)s m") % {"n": value}
        return str(value)


KEYS: dict[str, SopKey] = {
    item.key: item
    for item in (
        SopKey(
            "fare_ceiling",
            gettext_lazy("Fare ceiling"),
            gettext_lazy(
                "A ride whose estimated fare is above this waits for a supervisor's approval."
            ),
            "BOOKING_FARE_CEILING",
            RUPIAH,
            maximum=100_000_000,
        ),
        SopKey(
            "service_hours",
            gettext_lazy("Service hours"),
            gettext_lazy(
                "Pickups outside these hours (Jakarta time) wait for a supervisor's approval. "
                "They may run over midnight (21:00-06:00); equal start and end mean all day."
            ),
            "BOOKING_SERVICE_HOURS",
            HOURS,
        ),
        SopKey(
            "approval_margin_percent",
            gettext_lazy("Approval margin"),
            gettext_lazy(
                "A fare quoted again before a ride is sent may be this much above the fare "
                "agreed to; more goes back to a supervisor."
            ),
            "BOOKING_APPROVAL_MARGIN_PERCENT",
            PERCENT,
            maximum=1000,
        ),
        SopKey(
            "unit_monthly_budget",
            gettext_lazy("Monthly budget per unit"),
            gettext_lazy(
                "What the rides of one unit may cost in a month; 0 means no limit. A unit "
                "may have its own amount below."
            ),
            "FUNDING_UNIT_MONTHLY_BUDGET",
            RUPIAH,
            maximum=10_000_000_000,
            per_unit=True,
        ),
        SopKey(
            "hold_margin_percent",
            gettext_lazy("Hold margin"),
            gettext_lazy(
                "A ride sent to the partner holds its estimated fare plus this much of the "
                "fund until its receipt arrives."
            ),
            "FUNDING_HOLD_MARGIN_PERCENT",
            PERCENT,
            maximum=1000,
        ),
        SopKey(
            "low_balance_threshold",
            gettext_lazy("Low-balance alert"),
            gettext_lazy("Admins are alerted when the fund's available money falls below this."),
            "FUNDING_LOW_BALANCE_THRESHOLD",
            RUPIAH,
            maximum=10_000_000_000,
        ),
        # The monitoring rules' thresholds (rides/pipeline/monitoring.py).
        SopKey(
            "alert_no_driver_minutes",
            gettext_lazy("Alert: no driver after"),
            gettext_lazy("Supervisors are alerted when the partner is still looking for a driver."),
            "MONITORING_NO_DRIVER_MINUTES",
            MINUTES,
            minimum=1,
            maximum=1440,
        ),
        SopKey(
            "alert_approval_minutes",
            gettext_lazy("Alert: waiting for approval longer than"),
            gettext_lazy("Supervisors are alerted when a ride still waits for their approval."),
            "MONITORING_APPROVAL_MINUTES",
            MINUTES,
            minimum=1,
            maximum=1440,
        ),
        SopKey(
            "alert_no_progress_minutes",
            gettext_lazy("Alert: no progress for"),
            gettext_lazy(
                "Supervisors are alerted when a ride with a driver neither changes status nor "
                "moves for this long."
            ),
            "MONITORING_NO_PROGRESS_MINUTES",
            MINUTES,
            minimum=1,
            maximum=1440,
        ),
        SopKey(
            "alert_overrun_percent",
            gettext_lazy("Alert: trip longer than its estimate by"),
            gettext_lazy(
                "Supervisors are alerted when a trip takes this much longer than the partner's "
                "estimate of its duration (100% = twice as long)."
            ),
            "MONITORING_OVERRUN_PERCENT",
            PERCENT,
            minimum=10,
            maximum=1000,
        ),
        SopKey(
            "alert_overrun_minutes",
            gettext_lazy("Alert: trip without an estimate longer than"),
            gettext_lazy("The limit for a trip whose duration the partner did not estimate."),
            "MONITORING_OVERRUN_MINUTES",
            MINUTES,
            minimum=1,
            maximum=1440,
        ),
        SopKey(
            "alert_stopped_minutes",
            gettext_lazy("Alert: car stopped mid-trip for"),
            gettext_lazy(
                "Supervisors are alerted when the car moves less than 50 m in this time while "
                "the survivor is on board."
            ),
            "MONITORING_STOPPED_MINUTES",
            MINUTES,
            minimum=1,
            maximum=1440,
        ),
        SopKey(
            "alert_corridor_metres",
            gettext_lazy("Alert: car off the route by more than"),
            gettext_lazy(
                "Supervisors are alerted when the car is further than this from the straight "
                "line between pickup and drop-off."
            ),
            "MONITORING_CORRIDOR_METRES",
            METRES,
            minimum=100,
            maximum=50_000,
        ),
        SopKey(
            "arrival_confirm_minutes",
            gettext_lazy("Alert: safe arrival not confirmed after"),
            gettext_lazy(
                "Supervisors are alerted when nobody confirmed the survivor's safe arrival this "
                "long after the ride ended."
            ),
            "MONITORING_ARRIVAL_MINUTES",
            MINUTES,
            minimum=1,
            maximum=1440,
        ),
    )
}

DEFAULT_SETTINGS = frozenset(item.setting for item in KEYS.values())

# A per-unit value is named "<key>__<unit id>" (in forms, errors and sop_change).
UNIT_SEPARATOR = "__"


def unit_field(key: str, unit_id: int) -> str:
    return f"{key}{UNIT_SEPARATOR}{unit_id}"


def split_field(name: str) -> tuple[SopKey | None, int | None]:
    """(the key, the unit id or None) a field name means; (None, None) for an unknown name."""
    key, sep, unit = name.partition(UNIT_SEPARATOR)
    item = KEYS.get(key)
    if item is None:
        return None, None
    if not sep:
        return item, None
    if not item.per_unit or not unit.isdigit():
        return None, None
    return item, int(unit)
