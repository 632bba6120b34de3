"""Every write to cases, survivors, consent, saved addresses and the access log.

Views, the API, commands and other apps call these. Each one validates first (the rules
of a case's fields are in cases/rules.py) and writes in one transaction, so bad input
stores nothing half-done. Validation problems raise django.core.exceptions.ValidationError
with a message per field (in the user's language), which forms show inline and the API
answers with 400.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from audit.models import Kind
from audit.services import audit_change, audit_record, audit_record_many
from cases.models import (
    AccessLog,
    Case,
    Consent,
    ConsentScope,
    SavedAddress,
    Stage,
    Survivor,
)
from cases.rules import check_case, clean_address
from cases.selectors import case_is_assigned_to
from portal import data_keys

CODE_PREFIX = "JKT"
CODE_SEQUENCE = "cases_case_code_seq"
OVERRIDE_REASON_MIN_LENGTH = 20


def new_alias() -> str:
    """What the driver sees instead of a name: neutral, random, never from the name."""
    return f"Penumpang {secrets.randbelow(9000) + 1000}"


def _next_code() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [CODE_SEQUENCE])
        number = cursor.fetchone()[0]
    return f"{CODE_PREFIX}-{timezone.localdate().year}-{number:06d}"


def _require_case_writer(*, user, case: Case) -> None:
    """Writes to a case: a caseworker assigned to it or a supervisor of its unit."""
    if user.role == Role.SUPERVISOR and user.unit_id == case.unit_id:
        return
    if user.role == Role.CASEWORKER and case_is_assigned_to(user=user, case=case):
        return
    raise ValidationError(
        _("Only a caseworker assigned to this case or a supervisor of its unit can change it.")
    )


def _case_ref(case: Case) -> dict:
    """How the audit trail names a case: its code and unit, nothing of its contents."""
    return {"object_type": "case", "object_id": case.code, "unit_id": case.unit_id}


# --- cases ------------------------------------------------------------------------------


def case_create(
    *, user, survivor: dict, violence_types, stage: str = Stage.INTAKE, address: dict | None = None
) -> Case:
    """Opens a case in the user's unit, assigned to the user.

    `survivor`: {"name", "phone" (optional), "birth_date" (optional), "address" (optional:
    a string, or {"label", "address", "latitude", "longitude"})}.
    Every problem is reported at once; nothing is stored unless everything is valid.
    """
    if user.role not in (Role.CASEWORKER, Role.SUPERVISOR) or user.unit_id is None:
        raise ValidationError(_("Only caseworkers and supervisors of a unit can open cases."))
    survivor = dict(survivor or {})
    address = address if address is not None else survivor.get("address")
    if isinstance(address, str):
        address = {"address": address} if address.strip() else None
    given = {key: survivor.get(key) for key in ("name", "phone", "birth_date")}
    if "guardian" in survivor:
        given["guardian"] = survivor["guardian"]
    cleaned, errors = check_case(
        survivor=given,
        violence_types=[] if violence_types is None else violence_types,
        stage="" if stage is None else stage,
        address=address,
    )
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        case = Case(
            code=_next_code(),
            unit_id=user.unit_id,
            stage=cleaned["stage"],
            violence_types=cleaned["violence_types"],
            created_by=user,
        )
        case.note_stage(None, timezone.now())
        case.save()
        data_keys.create_case_key(case.pk)
        if user.role == Role.CASEWORKER:
            case.assigned_caseworkers.add(user)
        person = Survivor.objects.create(case=case, alias=new_alias(), **cleaned["survivor"])
        if cleaned.get("address"):
            SavedAddress.objects.create(survivor=person, **cleaned["address"])
        audit_change(
            action="opened",
            actor=user,
            **_case_ref(case),
            after={"stage": case.stage},
            protected=["violence_types", *(f"survivor.{name}" for name in cleaned["survivor"])],
        )
    return case


def case_update(
    *,
    user,
    case: Case,
    stage: str | None = None,
    violence_types=None,
    survivor: dict | None = None,
) -> Case:
    """Changes the stage, the kinds of violence and/or the survivor's details.

    Only the keys given in `survivor` change ("phone": "" clears the phone).
    """
    _require_case_writer(user=user, case=case)
    cleaned, errors = check_case(survivor=survivor, violence_types=violence_types, stage=stage)
    if errors:
        raise ValidationError(errors)
    changes = {key: cleaned[key] for key in ("stage", "violence_types") if key in cleaned}
    person_changes = cleaned["survivor"]
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        # The stage is the case's workflow; what violence it is about is the survivor's
        # story: the trail says only that it changed.
        stage_before = locked.stage
        new_types = changes.get("violence_types", locked.violence_types)
        changed_protected = ["violence_types"] if new_types != locked.violence_types else []
        for key, value in changes.items():
            setattr(locked, key, value)
        locked.note_stage(stage_before, timezone.now())
        locked.save()
        if person_changes:
            person = Survivor.objects.select_for_update().get(case=locked)
            for key, value in person_changes.items():
                if getattr(person, key) != value:
                    changed_protected.append(f"survivor.{key}")
                setattr(person, key, value)
            person.save()
        audit_change(
            action="edited",
            actor=user,
            **_case_ref(locked),
            before={"stage": stage_before},
            after={"stage": locked.stage},
            protected=changed_protected,
        )
    case.refresh_from_db()
    return case


def case_assign(*, user, case: Case, caseworker) -> None:
    """A supervisor of the case's unit assigns one of the unit's caseworkers to it."""
    if user.role != Role.SUPERVISOR or user.unit_id != case.unit_id:
        raise ValidationError(_("Only a supervisor of the case's unit can assign caseworkers."))
    if (
        caseworker.role != Role.CASEWORKER
        or caseworker.unit_id != case.unit_id
        or not caseworker.is_active
    ):
        raise ValidationError({"caseworker": _("Choose an active caseworker of this case's unit.")})
    with transaction.atomic():
        case.assigned_caseworkers.add(caseworker)
        audit_change(
            action="assigned",
            actor=user,
            **_case_ref(case),
            after={"caseworker": caseworker.get_username()},
        )


def case_unassign(*, user, case: Case, caseworker) -> None:
    if user.role != Role.SUPERVISOR or user.unit_id != case.unit_id:
        raise ValidationError(_("Only a supervisor of the case's unit can assign caseworkers."))
    with transaction.atomic():
        case.assigned_caseworkers.remove(caseworker)
        audit_change(
            action="unassigned",
            actor=user,
            **_case_ref(case),
            before={"caseworker": caseworker.get_username()},
            after={"caseworker": None},
        )


# --- consent ----------------------------------------------------------------------------


def consent_record(
    *, case: Case, user, given_by: str, scopes, override_reason: str = ""
) -> Consent:
    """Records consent for a case.

    - An adult survivor gives consent themselves; for a child, a guardian does.
    - When the guardian is the risk, a supervisor of the case's unit may record an
      override (given_by="supervisor_override") with a written reason.
    - The same consent still in force (same giver, scopes and reason) is not stored twice:
      it is returned, with `just_recorded` False (True on a consent stored now).
    """
    _require_case_writer(user=user, case=case)
    if not case.is_active:
        raise ValidationError(_("The case is closed. Reopen it before recording consent."))
    errors: dict[str, list] = {}
    scopes = [scopes] if isinstance(scopes, str) else list(scopes or [])
    unknown = [s for s in scopes if s not in ConsentScope.values]
    if unknown:
        errors["scopes"] = [
            _("Unknown consent scope: %(scopes)s. Choose from: %(allowed)s.")
            % {"scopes": ", ".join(map(str, unknown)), "allowed": ", ".join(ConsentScope.values)}
        ]
    elif not scopes:
        errors["scopes"] = [_("Choose what the consent covers.")]
    scopes = [s for s in ConsentScope.values if s in set(scopes)]

    survivor = Survivor.objects.filter(case=case).first()
    age_known = survivor is not None and survivor.birth_date is not None
    is_child = age_known and survivor.is_child
    override_reason = (override_reason or "").strip()
    G = Consent.GivenBy
    if given_by not in G.values:
        errors["given_by"] = [_("Choose who gives the consent.")]
    elif given_by == G.SUPERVISOR_OVERRIDE:
        if user.role != Role.SUPERVISOR or user.unit_id != case.unit_id:
            errors["given_by"] = [_("Only a supervisor of the case's unit can record an override.")]
        elif age_known and not is_child:
            errors["given_by"] = [
                _("An adult survivor gives consent themselves; an override is only for a child.")
            ]
        if len(override_reason) < OVERRIDE_REASON_MIN_LENGTH:
            errors["override_reason"] = [
                _("Write why the guardian cannot give consent (at least %(n)d characters).")
                % {"n": OVERRIDE_REASON_MIN_LENGTH}
            ]
    else:
        if given_by == G.SURVIVOR and is_child:
            errors["given_by"] = [
                _(
                    "The survivor is a child: a guardian gives consent, or a supervisor "
                    "records an override when the guardian is the risk."
                )
            ]
        elif given_by == G.GUARDIAN and age_known and not is_child:
            errors["given_by"] = [_("The survivor is an adult and gives consent themselves.")]
        if override_reason:
            errors["override_reason"] = [
                _("A reason is only written for a supervisor's override. Leave it empty.")
            ]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        Case.objects.select_for_update().filter(pk=case.pk).first()  # one recording at a time
        same = (
            Consent.objects.filter(
                case=case, withdrawn_at__isnull=True, given_by=given_by, scopes=scopes
            )
            .order_by("-pk")
            .first()
        )
        if same is not None and same.override_reason == override_reason:
            same.just_recorded = False
            return same
        consent = Consent.objects.create(
            case=case,
            given_by=given_by,
            scopes=scopes,
            recorded_by=user,
            override_reason=override_reason,
        )
        consent.just_recorded = True
        audit_change(
            action="consent_recorded",
            actor=user,
            object_type="consent",
            object_id=consent.pk,
            unit_id=case.unit_id,
            after={"case": case.code, "given_by": given_by, "scopes": scopes},
            protected=["override_reason"] if override_reason else [],
        )
        return consent


def consent_withdraw(*, consent: Consent, user) -> Consent:
    """Marks consent as withdrawn (kept for the record). Withdrawing twice changes nothing."""
    _require_case_writer(user=user, case=consent.case)
    with transaction.atomic():
        locked = Consent.objects.select_for_update().get(pk=consent.pk)
        if locked.withdrawn_at is None:
            locked.withdrawn_at = timezone.now()
            locked.save(update_fields=["withdrawn_at"])
            audit_change(
                action="consent_withdrawn",
                actor=user,
                object_type="consent",
                object_id=locked.pk,
                unit_id=consent.case.unit_id,
                before={"case": consent.case.code, "withdrawn": False},
                after={"case": consent.case.code, "withdrawn": True},
            )
    consent.withdrawn_at = locked.withdrawn_at
    return consent


# --- saved addresses --------------------------------------------------------------------


def saved_address_add(
    *, user, case: Case, label: str = "", address: str, latitude=None, longitude=None
) -> SavedAddress:
    """Adds an address of the survivor's (all of it is encrypted at rest)."""
    _require_case_writer(user=user, case=case)
    cleaned = clean_address(
        {"label": label, "address": address, "latitude": latitude, "longitude": longitude}
    )
    with transaction.atomic():
        saved = SavedAddress.objects.create(survivor=case.survivor, **cleaned)
        audit_change(
            action="address_added",
            actor=user,
            **_case_ref(case),
            protected=["survivor.address"],
        )
        return saved


# --- access log -------------------------------------------------------------------------

ACCESS_LOG_WINDOW = dt.timedelta(minutes=30)


def client_address(request) -> str | None:
    """The address the request came from, as the web server saw it."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def access_log_record(
    *, user, case: Case, fields: list[str], request=None, channel: str = "web", view: str = ""
) -> None:
    """Writes who saw which protected fields of a case, when and from where.

    Call it whenever protected fields are shown (page, partial, API answer, export).
    The log is append-only (a database trigger refuses updates and deletes).
    """
    if not fields:
        return
    if not view and request is not None and getattr(request, "resolver_match", None):
        view = request.resolver_match.view_name or ""
    row = {
        "user": user,
        "case": case,
        "fields": sorted(set(fields)),
        "ip_address": client_address(request),
        "channel": channel,
        "view": view[:80],
    }
    # One row per person, case, page, fields and address per ACCESS_LOG_WINDOW: reloading a
    # page shows the same person the same fields again and tells an audit nothing new, while
    # a row per reload buried the views that matter. The first view of each half hour is
    # kept, so every sitting is on record; two requests at the same instant may both write,
    # which errs on the side of the log.
    # The audit trail keeps the same sittings (a live partial polling every few seconds
    # would otherwise write a row each time).
    since = timezone.now() - ACCESS_LOG_WINDOW
    if not AccessLog.objects.filter(at__gte=since, **row).exists():
        AccessLog.objects.create(**row)
        audit_record(
            Kind.VIEW_PROTECTED,
            action=row["view"],
            actor=user,
            **_case_ref(case),
            changes={"fields": ", ".join(row["fields"])},
            request=request,
        )


def access_log_record_many(
    *, user, fields_by_case: dict[int, list[str]], request=None, view: str = ""
) -> int:
    """`access_log_record` for a list page that shows protected fields of many cases at
    once (a supervisor's board, the approval queue): the same rows, the same half-hour
    window, in two queries whatever the number of cases. Returns the rows written."""
    wanted = {case_id: sorted(set(fields)) for case_id, fields in fields_by_case.items() if fields}
    if not wanted:
        return 0
    if not view and request is not None and getattr(request, "resolver_match", None):
        view = request.resolver_match.view_name or ""
    address, view = client_address(request), view[:80]
    since = timezone.now() - ACCESS_LOG_WINDOW
    recent = AccessLog.objects.filter(
        at__gte=since,
        user=user,
        case_id__in=list(wanted),
        ip_address=address,
        channel="web",
        view=view,
    ).values_list("case_id", "fields")
    already = {(case_id, tuple(fields)) for case_id, fields in recent}
    rows = [
        AccessLog(
            user=user, case_id=case_id, fields=fields, ip_address=address, channel="web", view=view
        )
        for case_id, fields in wanted.items()
        if (case_id, tuple(fields)) not in already
    ]
    AccessLog.objects.bulk_create(rows)
    if rows:
        named = {
            pk: (code, unit_id)
            for pk, code, unit_id in Case.objects.filter(
                pk__in=[row.case_id for row in rows]
            ).values_list("pk", "code", "unit_id")
        }
        audit_record_many(
            Kind.VIEW_PROTECTED,
            [
                {
                    "action": view,
                    "actor": user,
                    "object_type": "case",
                    "object_id": named[row.case_id][0],
                    "unit_id": named[row.case_id][1],
                    "changes": {"fields": ", ".join(row.fields)},
                    "request": request,
                }
                for row in rows
            ],
        )
    return len(rows)
