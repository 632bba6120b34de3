"""Writing the audit trail: `audit_record` (every kind of event), `audit_change` (a change
with the before/after of plain fields and only the names of protected ones) and
`audit_export` (an export, called from the export views).

Other apps call these from their services; the actor, address and path come from the
request being answered (audit/context.py) unless given. Nothing of a survivor's is ever
written here: objects are named by type and id or code, protected fields by name only.
"""

from __future__ import annotations

import ipaddress

from audit.context import current_origin, origin_of
from audit.models import CHANGED, AuditEvent, Kind

_FROM_REQUEST = object()


def _valid_ip(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(value)) if value else None
    except ValueError:
        return None


def _event(
    kind: str,
    *,
    action: str = "",
    obj=None,
    object_type: str = "",
    object_id="",
    unit_id: int | None = None,
    changes: dict | None = None,
    actor=_FROM_REQUEST,
    actor_name: str | None = None,
    request=None,
) -> AuditEvent:
    """The event `audit_record` appends, not yet saved (see there)."""
    origin = origin_of(request) if request is not None else current_origin()
    if actor is _FROM_REQUEST:
        actor = origin.actor
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    if actor_name is None:
        actor_name = actor.get_username() if actor is not None else ""
    if obj is not None and object_id in ("", None):
        object_id = obj.pk
    return AuditEvent(
        kind=Kind(kind),
        action=action[:40],
        actor=actor,
        actor_name=(actor_name or "")[:150],
        ip=_valid_ip(origin.ip),
        path=origin.path,
        object_type=object_type[:40],
        object_id=str(object_id if object_id is not None else "")[:64],
        unit_id=unit_id,
        changes=changes or {},
    )


def audit_record(kind: str, **details) -> AuditEvent:
    """Appends one event. `kind` is one of audit.models.Kind (lockout and two_factor are
    for the login's second factor and throttling to record). `obj` (a model instance)
    gives `object_id` (its pk) when that is not given. The actor is the request's user,
    or None outside a request, unless given; `actor_name` defaults to its username."""
    event = _event(kind, **details)
    event.save()
    return event


def audit_record_many(kind: str, events: list[dict]) -> int:
    """Appends one event per dict of `audit_record`'s details, in one statement (a page
    that shows protected fields of many cases at once)."""
    rows = [_event(kind, **details) for details in events]
    AuditEvent.objects.bulk_create(rows)
    return len(rows)


def plain_changes(before: dict, after: dict) -> dict:
    """{field: [old, new]} of each plain field whose value differs."""
    return {
        name: [before.get(name), value]
        for name, value in after.items()
        if before.get(name) != value
    }


def protected_changes(names) -> dict:
    """{field: "changed"} of protected fields: their names, never a value."""
    return dict.fromkeys(sorted(names), CHANGED)


def audit_change(
    *,
    action: str,
    object_type: str,
    object_id,
    unit_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
    protected=(),
    actor=_FROM_REQUEST,
) -> AuditEvent:
    """A change of an object: `before`/`after` hold its plain fields (only those that
    differ are kept), `protected` the names of encrypted fields that changed."""
    changes = plain_changes(before or {}, after or {})
    changes.update(protected_changes(protected))
    return audit_record(
        Kind.CHANGE,
        action=action,
        object_type=object_type,
        object_id=object_id,
        unit_id=unit_id,
        changes=changes,
        actor=actor,
    )


def audit_export(request, what: str, *, unit_id: int | None = None, rows: int | None = None):
    """An export was downloaded: `what` names it ("funding_report_csv", "audit_csv", …).
    Call it from every export view; the filters are not recorded (they may hold a name),
    only how many rows went out when known."""
    return audit_record(
        Kind.EXPORT,
        action=what,
        object_type="report",
        object_id=what,
        unit_id=unit_id,
        changes={"rows": rows} if rows is not None else None,
        request=request,
    )
