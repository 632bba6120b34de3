"""Ride lists that pages of other apps show, so those apps never import rides: the case
page includes rides/_case_rides.html, which asks for the case's rides here."""

from django import template

from rides.selectors import case_rides

register = template.Library()


@register.simple_tag(name="case_rides")
def case_rides_tag(case) -> list:
    """{% case_rides case as rides %}: the case's latest rides, without their points."""
    return list(case_rides(case))
