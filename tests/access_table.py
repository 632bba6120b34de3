"""Who may reach each URL of the project. Every URL pattern must have an entry here.

Each entry: the HTTP method, optional kwargs builder (given the test's `world` of objects),
and the expected answer per role: a status code, or LOGIN for "redirected to the login
page". A URL added without an entry fails tests/test_access.py.
"""

LOGIN = "login"
ROLES = ("anonymous", "caseworker", "supervisor", "admin")


def everyone(status):
    return dict.fromkeys(ROLES, status)


def staff_only(status, anonymous=LOGIN):
    return {"anonymous": anonymous, "caseworker": status, "supervisor": status, "admin": status}


def case_workers(status, admin, anonymous=LOGIN):
    """Case URLs: the case's caseworker and its unit's supervisor; admins see no case."""
    return {"anonymous": anonymous, "caseworker": status, "supervisor": status, "admin": admin}


def _case(world):
    """One case of the world's unit, assigned to the world's caseworker (made once)."""
    if "case" not in world:
        from cases.services import case_create

        world["case"] = case_create(
            user=world["users"]["caseworker"],
            survivor={"name": "Access Test", "phone": "081234567890"},
            violence_types=["physical"],
            stage="accompaniment",
        )
    return world["case"]


def _case_code(world):
    return {"code": _case(world).code}


def _consent(world):
    from cases.services import consent_record

    case = _case(world)
    consent = consent_record(
        case=case, user=world["users"]["caseworker"], given_by="survivor", scopes=["transport"]
    )
    return {"code": case.code, "pk": consent.pk}


def _assigned(world):
    return {"code": _case(world).code, "user_id": world["users"]["caseworker"].pk}


def supervisors_only(status, anonymous=LOGIN):
    return {"anonymous": anonymous, "caseworker": 403, "supervisor": status, "admin": 403}


def supervisors_and_admins(status, anonymous=LOGIN):
    return {"anonymous": anonymous, "caseworker": 403, "supervisor": status, "admin": status}


def admins_only(status, anonymous=LOGIN):
    """The admin pages (/admin/…): administrators only."""
    return {"anonymous": anonymous, "caseworker": 403, "supervisor": 403, "admin": status}


def _partner_pk(world):
    return {"pk": _webhook_account().pk}


def _user_pk(world):
    return {"pk": world["users"]["caseworker"].pk}


def _unit_pk(world):
    return {"pk": world["unit"].pk}


def _token_pk(world):
    from accounts.models import ApiToken
    from accounts.services import api_token_issue

    api_token_issue(user=world["users"]["caseworker"], name="access")
    return {"pk": ApiToken.objects.latest("pk").pk}


def _ride(world):
    """A ride of the world's case, waiting for approval (made once, without the SOP)."""
    if "ride" not in world:
        from cases.services import consent_record
        from rides.models import Ride

        case = _case(world)
        consent_record(
            case=case, user=world["users"]["caseworker"], given_by="survivor", scopes=["transport"]
        )
        world["ride"] = Ride.objects.create(
            case=case,
            unit=case.unit,
            partner_account=_webhook_account(),
            booked_by=world["users"]["caseworker"],
            purpose="medical_exam",
            pickup={"latitude": -6.2251, "longitude": 106.9003, "address": "Jl. Pemuda 10"},
            dropoff={"latitude": -6.2697, "longitude": 106.866, "address": "RS Polri"},
            rider_phone="+6281234567890",
            rider_alias="Penumpang 1234",
            status="awaiting_approval",
            approval_reasons=[{"code": "fare_unknown", "ceiling": 250000}],
        )
    return world["ride"]


def _ride_ref(world):
    return {"reference": _ride(world).reference}


def _alert_pk(world):
    from rides.models import Alert, AlertKind

    ride = _ride(world)
    alert = Alert.objects.create(
        unit=ride.unit, ride=ride, kind=AlertKind.APPROVAL_WAITING, message="Waiting."
    )
    return {"pk": alert.pk}


def _agreement(world):
    import datetime as dt

    from funding.models import Agreement, Funder

    funder, _created = Funder.objects.get_or_create(name="access-table funder")
    agreement, _created = Agreement.objects.get_or_create(
        funder=funder,
        title="access-table agreement",
        defaults={
            "amount": 1_000_000,
            "starts_on": dt.date(2026, 1, 1),
            "ends_on": dt.date(2026, 12, 31),
        },
    )
    return {"pk": agreement.pk}


ACCESS = {
    "home": {"method": "get", "expect": staff_only(200)},
    "healthz": {"method": "get", "expect": everyone(200)},
    "favicon": {"method": "get", "expect": everyone(301)},
    "login": {
        "method": "get",
        # a logged-in user is sent on to the home page
        "expect": {"anonymous": 200, "caseworker": 302, "supervisor": 302, "admin": 302},
    },
    "logout": {"method": "post", "expect": everyone(302)},
    "set_language": {"method": "post", "data": {"language": "en"}, "expect": everyone(302)},
    # an invitation's link: a wrong one says so, to anyone
    "password_set": {
        "method": "get",
        "kwargs": lambda world: {"uidb64": "MQ", "token": "wrong-token"},
        "expect": everyone(200),
    },
    "password_set_done": {"method": "get", "expect": everyone(200)},
    # the code step after the password: only for a session that owes a code; anyone else
    # is sent on (the test users have no authenticator app)
    "two_factor_verify": {"method": "get", "expect": staff_only(302)},
    # one's own second factor and password
    "two_factor_enrol": {"method": "get", "expect": staff_only(200)},
    "password_change": {"method": "get", "expect": staff_only(200)},
    # admin pages: partner accounts
    "partners:list": {"method": "get", "expect": admins_only(200)},
    "partners:create": {"method": "get", "expect": admins_only(200)},
    "partners:edit": {"method": "get", "kwargs": _partner_pk, "expect": admins_only(200)},
    "partners:enable": {"method": "post", "kwargs": _partner_pk, "expect": admins_only(302)},
    "partners:disable": {"method": "post", "kwargs": _partner_pk, "expect": admins_only(302)},
    # the new secret is shown once, in the answer
    "partners:rotate": {"method": "post", "kwargs": _partner_pk, "expect": admins_only(200)},
    # the account points at a closed port: "unreachable", back to the list
    "partners:test": {"method": "post", "kwargs": _partner_pk, "expect": admins_only(302)},
    # admin pages: users, units, API tokens, the change log
    "accounts:users": {"method": "get", "expect": admins_only(200)},
    "accounts:user_invite": {"method": "get", "expect": admins_only(200)},
    "accounts:user_edit": {"method": "get", "kwargs": _user_pk, "expect": admins_only(200)},
    "accounts:user_deactivate": {
        "method": "post",
        "kwargs": _user_pk,
        "expect": admins_only(302),
    },
    # sign-in controls on a user's page: back to the page with a message
    "accounts:user_unlock": {"method": "post", "kwargs": _user_pk, "expect": admins_only(302)},
    "accounts:user_two_factor_reset": {
        "method": "post",
        "kwargs": _user_pk,
        "expect": admins_only(302),
    },
    "accounts:user_password_reset": {
        "method": "post",
        "kwargs": _user_pk,
        "expect": admins_only(302),
    },
    "accounts:units": {"method": "get", "expect": admins_only(200)},
    "accounts:unit_create": {"method": "get", "expect": admins_only(200)},
    "accounts:unit_edit": {"method": "get", "kwargs": _unit_pk, "expect": admins_only(200)},
    "accounts:tokens": {"method": "get", "expect": admins_only(200)},
    "accounts:token_issue": {"method": "get", "expect": admins_only(200)},
    # no date: the expiry is cleared, back to the list
    "accounts:token_expire": {"method": "post", "kwargs": _token_pk, "expect": admins_only(302)},
    "accounts:token_revoke": {"method": "post", "kwargs": _token_pk, "expect": admins_only(302)},
    "accounts:changes": {"method": "get", "expect": admins_only(200)},
    # the audit trail and its export: administrators only
    "audit:events": {"method": "get", "expect": admins_only(200)},
    "audit:export_csv": {"method": "get", "expect": admins_only(200)},
    # cases (pages)
    "cases:list": {"method": "get", "expect": case_workers(200, admin=403)},
    "cases:create": {"method": "get", "expect": case_workers(200, admin=403)},
    "cases:places": {"method": "get", "expect": staff_only(200)},
    "cases:detail": {"method": "get", "kwargs": _case_code, "expect": case_workers(200, 404)},
    "cases:survivor": {"method": "get", "kwargs": _case_code, "expect": case_workers(200, 404)},
    # the unit's supervisors only; a case the admin may not see is not found
    "cases:access_log": {
        "method": "get",
        "kwargs": _case_code,
        "expect": {"anonymous": LOGIN, "caseworker": 403, "supervisor": 200, "admin": 404},
    },
    "cases:edit": {"method": "get", "kwargs": _case_code, "expect": case_workers(200, 404)},
    "cases:address_add": {"method": "get", "kwargs": _case_code, "expect": case_workers(200, 404)},
    # an empty form comes back with its errors
    "cases:consent_record": {
        "method": "post",
        "kwargs": _case_code,
        "expect": case_workers(200, 404),
    },
    "cases:consent_withdraw": {
        "method": "post",
        "kwargs": _consent,
        "expect": case_workers(302, 404),
    },
    "cases:assign": {
        "method": "post",
        "kwargs": _case_code,
        "expect": {"anonymous": LOGIN, "caseworker": 403, "supervisor": 200, "admin": 404},
    },
    "cases:unassign": {
        "method": "post",
        "kwargs": _assigned,
        "expect": {"anonymous": LOGIN, "caseworker": 403, "supervisor": 302, "admin": 404},
    },
    # REST API v1: anonymous → 401 (Bearer challenge), never a login redirect
    "api:schema": {"method": "get", "expect": staff_only(200, anonymous=401)},
    "api:case-list": {"method": "get", "expect": case_workers(200, admin=403, anonymous=401)},
    "api:case-detail": {
        "method": "get",
        "kwargs": _case_code,
        "expect": case_workers(200, admin=403, anonymous=401),
    },
    # an empty body is refused with field-level messages
    "api:case-consents": {
        "method": "post",
        "kwargs": _case_code,
        "expect": case_workers(400, admin=403, anonymous=401),
    },
    "api:place-list": {"method": "get", "expect": staff_only(200, anonymous=401)},
    # rides (pages): caseworkers and supervisors book and follow rides; admins see none
    "rides:list": {"method": "get", "expect": case_workers(200, admin=403)},
    "rides:book": {"method": "get", "expect": case_workers(200, admin=403)},
    # without a case code there is no case to estimate for
    "rides:estimate": {"method": "post", "expect": case_workers(404, admin=403)},
    # an empty query: the suggestions partial with nothing in it
    "rides:address_search": {"method": "post", "expect": case_workers(200, admin=403)},
    "rides:approvals": {"method": "get", "expect": supervisors_only(200)},
    "rides:approval_badge": {"method": "get", "expect": supervisors_only(200)},
    "rides:history": {"method": "get", "expect": case_workers(200, admin=403)},
    "rides:notices": {"method": "get", "expect": case_workers(200, admin=403)},
    "rides:notice_badge": {"method": "get", "expect": case_workers(200, admin=403)},
    "rides:notices_read": {"method": "post", "expect": case_workers(302, admin=403)},
    "rides:detail": {"method": "get", "kwargs": _ride_ref, "expect": case_workers(200, 403)},
    "rides:live": {"method": "get", "kwargs": _ride_ref, "expect": case_workers(200, 403)},
    # the ride waits for approval: cancelled at once, then back to its page
    "rides:cancel": {"method": "post", "kwargs": _ride_ref, "expect": case_workers(302, 403)},
    # not rebookable / not retryable now: a message on the ride page
    "rides:rebook": {"method": "post", "kwargs": _ride_ref, "expect": case_workers(302, 403)},
    "rides:retry": {"method": "post", "kwargs": _ride_ref, "expect": case_workers(302, 403)},
    # The ride waits for approval: "not ended yet" is a message on the ride page.
    "rides:arrival": {"method": "post", "kwargs": _ride_ref, "expect": case_workers(302, 403)},
    "rides:approve": {"method": "post", "kwargs": _ride_ref, "expect": supervisors_only(302)},
    # no reason given: the queue comes back with the message
    "rides:reject": {"method": "post", "kwargs": _ride_ref, "expect": supervisors_only(400)},
    # rides (REST API v1)
    "api:ride-list": {"method": "get", "expect": case_workers(200, admin=403, anonymous=401)},
    "api:ride-detail": {
        "method": "get",
        "kwargs": _ride_ref,
        "expect": case_workers(200, admin=403, anonymous=401),
    },
    "api:ride-cancel": {
        "method": "post",
        "kwargs": _ride_ref,
        "expect": case_workers(200, admin=403, anonymous=401),
    },
    # a ride waiting for approval cannot be rebooked: 400 with the reason
    "api:ride-rebook": {
        "method": "post",
        "kwargs": _ride_ref,
        "expect": case_workers(400, admin=403, anonymous=401),
    },
    "api:ride-approve": {
        "method": "post",
        "kwargs": _ride_ref,
        "expect": supervisors_only(200, anonymous=401),
    },
    # no reason given: 400 with the field's message
    "api:ride-reject": {
        "method": "post",
        "kwargs": _ride_ref,
        "expect": supervisors_only(400, anonymous=401),
    },
    # supervision: the live board and its polled partial; acknowledging an alert that is
    # not there is 404
    "supervision:board": {"method": "get", "expect": supervisors_only(200)},
    "supervision:board_live": {"method": "get", "expect": supervisors_only(200)},
    "supervision:board_acknowledge": {
        "method": "post",
        "kwargs": lambda world: {"pk": 999_999},
        "expect": supervisors_only(404),
    },
    # the supervisors' trip log, its exports and a ride's timeline (supervision/triplog/)
    "supervision:trip_log": {"method": "get", "expect": supervisors_only(200)},
    "supervision:trip_log_csv": {"method": "get", "expect": supervisors_only(200)},
    "supervision:trip_log_xlsx": {"method": "get", "expect": supervisors_only(200)},
    "supervision:trip_timeline": {
        "method": "get",
        "kwargs": _ride_ref,
        "expect": supervisors_only(200),
    },
    # REST API v1: the docs page (a page: anonymous callers are sent to the login)
    "api:docs": {"method": "get", "expect": staff_only(200)},
    "api:ride-events": {
        "method": "get",
        "kwargs": _ride_ref,
        "expect": case_workers(200, admin=403, anonymous=401),
    },
    # an empty body is refused with the fields' messages
    "api:estimate": {"method": "post", "expect": case_workers(400, admin=403, anonymous=401)},
    "api:place-search": {"method": "post", "expect": case_workers(400, admin=403, anonymous=401)},
    "api:approval-list": {"method": "get", "expect": supervisors_only(200, anonymous=401)},
    # supervisors their units' alerts, admins the fund's
    "api:alert-list": {
        "method": "get",
        "expect": {"anonymous": 401, "caseworker": 403, "supervisor": 200, "admin": 200},
    },
    # an alert about the unit's ride: not one the admin is shown
    "api:alert-acknowledge": {
        "method": "post",
        "kwargs": _alert_pk,
        "data": {"note": "Called the caseworker."},
        "expect": {"anonymous": 401, "caseworker": 403, "supervisor": 200, "admin": 404},
    },
    "api:funding-summary": {"method": "get", "expect": admins_only(200, anonymous=401)},
    "api:partner-account-list": {"method": "get", "expect": admins_only(200, anonymous=401)},
    "api:partner-account-detail": {
        "method": "get",
        "kwargs": _partner_pk,
        "expect": admins_only(200, anonymous=401),
    },
    "api:partner-account-enable": {
        "method": "post",
        "kwargs": _partner_pk,
        "expect": admins_only(200, anonymous=401),
    },
    "api:partner-account-disable": {
        "method": "post",
        "kwargs": _partner_pk,
        "expect": admins_only(200, anonymous=401),
    },
    "api:user-list": {"method": "get", "expect": admins_only(200, anonymous=401)},
    "api:user-detail": {
        "method": "get",
        "kwargs": _user_pk,
        "expect": admins_only(200, anonymous=401),
    },
    "api:user-deactivate": {
        "method": "post",
        "kwargs": _user_pk,
        "expect": admins_only(200, anonymous=401),
    },
    "api:token-list": {"method": "get", "expect": admins_only(200, anonymous=401)},
    "api:token-revoke": {
        "method": "post",
        "kwargs": _token_pk,
        "expect": admins_only(200, anonymous=401),
    },
    # the SOP settings: administrators only
    "sop:settings": {"method": "get", "expect": admins_only(200)},
    # The fund: admins only. An empty POST is 400 with the fields' messages; a confirm
    # of a tranche or adjustment that is not there is 404.
    "funding:page": {"method": "get", "expect": admins_only(200)},
    "funding:report_csv": {"method": "get", "expect": admins_only(200)},
    "funding:report_xlsx": {"method": "get", "expect": admins_only(200)},
    "funding:funders": {"method": "post", "expect": admins_only(400)},
    "funding:agreements": {"method": "post", "expect": admins_only(400)},
    "funding:agreement": {"method": "get", "kwargs": _agreement, "expect": admins_only(200)},
    "funding:tranche_receive": {
        "method": "post",
        "kwargs": lambda world: {"pk": 999_999},
        "expect": admins_only(404),
    },
    "funding:adjustments": {"method": "post", "expect": admins_only(400)},
    "funding:adjustment_confirm": {
        "method": "post",
        "kwargs": lambda world: {"pk": 999_999},
        "expect": admins_only(404),
    },
    "funding:ledger": {"method": "get", "expect": admins_only(200)},
    # Reports: supervisors (their unit; every unit for the provincial centre) and admins
    # (aggregates only); the SIMFONI-PPA figures, counted from the cases' contents, are
    # for supervisors alone.
    "supervision:reports": {"method": "get", "expect": supervisors_and_admins(200)},
    "supervision:reports_csv": {"method": "get", "expect": supervisors_and_admins(200)},
    "supervision:reports_xlsx": {"method": "get", "expect": supervisors_and_admins(200)},
    "supervision:reports_simfoni_csv": {"method": "get", "expect": supervisors_only(200)},
    "supervision:reports_simfoni_xlsx": {"method": "get", "expect": supervisors_only(200)},
    # Alerts: supervisors (their units') and admins (the fund's); caseworkers have none.
    "supervision:alerts": {"method": "get", "expect": supervisors_and_admins(200)},
    "supervision:alert_history": {"method": "get", "expect": supervisors_and_admins(200)},
    "supervision:alert_badge": {"method": "get", "expect": supervisors_and_admins(200)},
    "supervision:alert_acknowledge": {
        "method": "post",
        "kwargs": lambda world: {"alert_id": 999_999},
        "expect": supervisors_and_admins(404),
    },
    # Public for partners (signed, not logged in): unsigned requests are refused with 400.
    "partner_webhook": {
        "method": "post",
        "kwargs": lambda world: {"token": _webhook_account().webhook_token},
        "expect": everyone(400),
    },
}


def _webhook_account():
    from partners.models import PartnerAccount

    account, _created = PartnerAccount.objects.get_or_create(
        name="Mitra uji akses",
        defaults={
            "base_url": "http://127.0.0.1:9/",
            "client_id": "access",
            "client_secret": "secret",
            "webhook_secret": "whsec_" + "A" * 32,
        },
    )
    return account
