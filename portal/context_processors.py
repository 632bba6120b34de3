"""What every template gets from the portal: whether DEBUG is on."""

from django.conf import settings


def portal(request):
    return {"DEBUG": settings.DEBUG}
