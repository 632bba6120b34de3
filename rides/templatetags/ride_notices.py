"""The sentence a notice says, composed when shown, in the reader's language."""

from django import template

from rides.notices import notice_text as compose

register = template.Library()


@register.filter
def notice_text(notice) -> str:
    return compose(notice)
