"""Template filters every page uses to show money the Indonesian way."""

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def rupiah(value):
    """Rupiah the Indonesian way: `Rp 1.250.000` (dot for thousands, no decimals)."""
    if value is None or value == "":
        return "–"
    try:
        amount = int(Decimal(str(value)).quantize(Decimal(1)))
    except (InvalidOperation, ValueError):
        return value
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp {abs(amount):,}".replace(",", ".")
