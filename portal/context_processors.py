"""What every template gets from the portal: whether DEBUG is on, and whether the
signed-in user still owes the second factor (the header then shows no menu: nothing
behind it answers yet)."""

from django.conf import settings

from accounts.two_factor import pending_step


def portal(request):
    owed = hasattr(request, "session") and hasattr(request, "user") and pending_step(request)
    return {"DEBUG": settings.DEBUG, "second_factor_owed": bool(owed)}
