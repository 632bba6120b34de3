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


ACCESS = {
    "home": {"method": "get", "expect": staff_only(200)},
    "healthz": {"method": "get", "expect": everyone(200)},
    "login": {
        "method": "get",
        # a logged-in user is sent on to the home page
        "expect": {"anonymous": 200, "caseworker": 302, "supervisor": 302, "admin": 302},
    },
    "logout": {"method": "post", "expect": everyone(302)},
    "set_language": {"method": "post", "data": {"language": "en"}, "expect": everyone(302)},
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
        name="access-table partner",
        defaults={
            "base_url": "http://127.0.0.1:9/",
            "client_id": "access",
            "client_secret": "secret",
            "webhook_secret": "whsec_" + "A" * 32,
        },
    )
    return account
