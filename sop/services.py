"""The SOP's one write: `sop_change`, by an administrator, every value checked at once,
each change recorded in the history with who and when."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, Unit
from audit.services import audit_change
from sop.models import SopChange, SopValue
from sop.registry import split_field, unit_field
from sop.selectors import cache_clear

# Two admins saving at once: one after the other, so each history row's old value is
# what the table held just before.
_LOCK_KEY = 0x50_50_53_4F_50  # "SOP"


def _parsed(values: dict) -> dict[tuple[str, int | None], object]:
    """{(key, unit id): value or None for "the default"}; every problem raised at once,
    keyed by the name it was given under."""
    errors: dict[str, list[str]] = {}
    parsed = {}
    unit_ids = set()
    for name, raw in values.items():
        item, unit_id = split_field(name)
        if item is None:
            errors[name] = [_("This is not a setting the portal knows.")]
            continue
        if unit_id is not None:
            unit_ids.add(unit_id)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            parsed[(item.key, unit_id)] = None
            continue
        try:
            parsed[(item.key, unit_id)] = item.parse(raw)
        except ValidationError as exc:
            errors[name] = exc.messages
    known = set(Unit.objects.filter(pk__in=unit_ids).values_list("pk", flat=True))
    for (key, unit_id), _value in parsed.items():
        if unit_id is not None and unit_id not in known:
            errors[unit_field(key, unit_id)] = [_("There is no such unit.")]
    if errors:
        raise ValidationError(errors)
    return parsed


def sop_change(*, user, **values) -> list[SopChange]:
    """Sets SOP values: `fare_ceiling=300000`, `service_hours="06:00-22:00"`, a single
    unit's `unit_monthly_budget__<unit id>=5000000`; None or "" means back to the default.
    Only administrators may. Every value is checked first (one ValidationError with all
    the problems, by name; nothing written); then each real change is written with its
    history row in one transaction. Returns the history rows written."""
    if getattr(user, "role", None) != Role.ADMIN:
        raise PermissionDenied(_("Only administrators change the SOP settings."))
    parsed = _parsed(values)
    now = timezone.now()
    written = []
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        stored = {
            (row.key, row.unit_id): row
            for row in SopValue.objects.select_for_update().filter(
                key__in={key for key, _unit in parsed}
            )
        }
        for (key, unit_id), new in parsed.items():
            row = stored.get((key, unit_id))
            old = row.value if row is not None else None
            if old == new:
                continue
            if new is None:
                row.delete()
            elif row is None:
                SopValue.objects.create(
                    key=key, unit_id=unit_id, value=new, changed_at=now, changed_by=user
                )
            else:
                row.value, row.changed_at, row.changed_by = new, now, user
                row.save(update_fields=["value", "changed_at", "changed_by"])
            written.append(
                SopChange.objects.create(
                    key=key,
                    unit_id=unit_id,
                    old_value=old,
                    new_value=new,
                    changed_at=now,
                    changed_by=user,
                )
            )
        for change in written:
            audit_change(
                action="changed",
                actor=user,
                object_type="sop",
                object_id=change.key,
                unit_id=change.unit_id,
                before={change.key: change.old_value},
                after={change.key: change.new_value},
            )
        if written:
            # Read again in this transaction at once, and by everyone in this process
            # once it commits.
            cache_clear()
            transaction.on_commit(cache_clear)
    return written
