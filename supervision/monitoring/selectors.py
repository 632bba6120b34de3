"""The board's reads: the active rides of the units a supervisor oversees, each with its
open alerts' kinds and the points the map shows, and the open alerts panel. Each read is
one query (two for the rides and their alerts, one more for their count when they are
more than the board shows), whatever the number of rides.

The board shows at most BOARD_ROWS_SHOWN rides, the longest in their state first, and
says how many there are: a province's centre may oversee thousands of rides held for a
person, which the trip log lists (filtered by status) and no board could show usefully.
The partial index `ride_on_board` (rides/models/ride.py) serves the window and the
count."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from rides.models import Alert, Ride, RideStatus
from rides.models.states import ON_BOARD_STATUSES
from rides.selectors import point_label, rides_overseen_by

S = RideStatus

# On the board from booking until the trip ends: waiting for a supervisor, on its way to
# the partner, with the partner, or held for a person.
BOARD_STATUSES = frozenset(ON_BOARD_STATUSES)
# The statuses in which a driver's last position is shown (as on the ride page).
DRIVER_SHOWN = frozenset({S.DRIVER_ASSIGNED, S.ARRIVING, S.ON_TRIP})
# The statuses in which the driver's ETA to the pickup means something.
ETA_SHOWN = frozenset({S.DRIVER_ASSIGNED, S.ARRIVING})

# The newest open alerts shown in the panel (the alerts pages list them all).
ALERTS_SHOWN = 50
# The rides the board shows, the longest in their state first (module docstring).
BOARD_ROWS_SHOWN = 50

BOARD_FIELDS = (
    "id",
    "reference",
    "case_id",
    "unit__code",
    "unit__name",
    "status",
    "status_changed_at",
    "scheduled_pickup_at",
    "pickup_eta_seconds",
    "driver_latitude",
    "driver_longitude",
    "pickup",
    "dropoff",
    *(
        f"{point}__{name}"
        for point in ("pickup_place", "dropoff_place")
        for name in ("name", "is_protected", "neutral_address")
    ),
)


@dataclass
class BoardRow:
    ride: Ride
    alert_kinds: list[str]
    eta_seconds: int | None
    markers: list[dict] = field(default_factory=list)
    typed_points: list[str] = field(default_factory=list)
    # Filled by the view: its time in state as the page words it ("5 minutes ago"), what
    # the row shows (for the board's version) and the key its markup is kept under.
    since: str = ""
    shown: tuple = ()
    fragment: str = ""


def board_rides(user):
    """The active rides `user` oversees, the longest in their state first."""
    open_alerts = Alert.objects.open().only("id", "kind", "ride_id").order_by("created_at")
    return (
        rides_overseen_by(user)
        .filter(status__in=BOARD_STATUSES)
        .select_related("unit", "pickup_place", "dropoff_place")
        .prefetch_related(Prefetch("alerts", queryset=open_alerts, to_attr="open_alerts"))
        .only(*BOARD_FIELDS)
        .order_by("status_changed_at", "id")
    )


def _coordinates(point) -> tuple[float, float] | None:
    try:
        return float(point["latitude"]), float(point["longitude"])
    except (KeyError, TypeError, ValueError):
        return None


def _marker(ride, kind: str, at, label: str, title: str = "") -> dict | None:
    if at is None:
        return None
    return {
        "key": f"{ride.reference}:{kind}",
        "ref": ride.reference,
        "point": kind,
        "lat": round(at[0], 6),
        "lon": round(at[1], 6),
        "label": f"{ride.reference} · {label}",
        "title": title,
    }


def board_row(ride: Ride) -> BoardRow:
    """One ride on the board: its markers (the pickup and drop-off the partner got,
    which for a protected place is its neutral point, and the driver while on the way),
    labelled by the ride's reference, never a name; a typed point's address is not on
    the board at all."""
    pickup_title = point_label(ride.pickup_place, {}) if ride.pickup_place else ""
    dropoff_title = point_label(ride.dropoff_place, {}) if ride.dropoff_place else ""
    driver = None
    if (
        ride.status in DRIVER_SHOWN
        and ride.driver_latitude is not None
        and ride.driver_longitude is not None
    ):
        driver = (ride.driver_latitude, ride.driver_longitude)
    markers = [
        _marker(ride, "pickup", _coordinates(ride.pickup), _("Pickup"), pickup_title),
        _marker(ride, "dropoff", _coordinates(ride.dropoff), _("Drop-off"), dropoff_title),
        _marker(ride, "driver", driver, _("Driver")),
    ]
    typed = [
        name
        for name, place in (
            ("ride.pickup", ride.pickup_place),
            ("ride.dropoff", ride.dropoff_place),
        )
        if place is None
    ]
    return BoardRow(
        ride=ride,
        alert_kinds=list(dict.fromkeys(alert.get_kind_display() for alert in ride.open_alerts)),
        eta_seconds=ride.pickup_eta_seconds if ride.status in ETA_SHOWN else None,
        markers=[marker for marker in markers if marker],
        typed_points=typed,
    )


def board_alerts(user, *, limit: int = ALERTS_SHOWN):
    """The open alerts `user` is shown, newest first, with the ride's reference or the
    partner account's name (a partner that is down is one alert for every unit)."""
    return (
        Alert.objects.open()
        .for_supervisor(user)
        .select_related("ride", "partner_account")
        .only("id", "kind", "created_at", "ride__reference", "partner_account__name")
        .order_by("-created_at", "-id")[:limit]
    )


def board_for(user) -> dict:
    """Everything the board shows: its rows (at most BOARD_ROWS_SHOWN) and how many rides
    are active, the map's markers, the open alerts, and which protected fields of which
    cases it shows (the typed points on the map)."""
    shown = list(board_rides(user)[:BOARD_ROWS_SHOWN])
    rows = [board_row(ride) for ride in shown]
    active = len(rows)
    if active == BOARD_ROWS_SHOWN:
        active = rides_overseen_by(user).filter(status__in=BOARD_STATUSES).count()
    typed: dict[int, set[str]] = {}
    for row in rows:
        typed.setdefault(row.ride.case_id, set()).update(row.typed_points)
    return {
        "rows": rows,
        "active_count": active,
        "markers": [marker for row in rows for marker in row.markers],
        "alerts": list(board_alerts(user)),
        "fields_by_case": {case_id: sorted(fields) for case_id, fields in typed.items() if fields},
    }
