"""The user's notices: the list page, the header's badge (an htmx partial polled every
20 seconds), and "mark all read"."""

from __future__ import annotations

from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_POST

from portal.views import passive
from rides.notices import (
    badge_label,
    notices_mark_read,
    notices_newest_id,
    notices_page,
    notices_unread_count,
)
from rides.views.common import pager, require_booking_role


@require_GET
def notice_list(request):
    require_booking_role(request.user)
    page = notices_page(
        request.user, after=request.GET.get("after"), before=request.GET.get("before")
    )
    context = {
        "page": page,
        "newest_id": notices_newest_id(request.user),
        "unread": notices_unread_count(request.user),
        **pager(page),
    }
    return render(request, "rides/notices.html", context)


@passive
@require_GET
def notice_badge(request):
    """The badge alone (polled by htmx): the number of unread notices."""
    require_booking_role(request.user)
    count = notices_unread_count(request.user)
    context = {"count": count, "shown": badge_label(count)}
    response = render(request, "rides/_notice_badge.html", context)
    add_never_cache_headers(response)
    return response


@require_POST
def notices_read(request):
    """Marks read every notice up to the newest one when the page was shown (one that
    arrived since stays unread), or all when the form does not say."""
    require_booking_role(request.user)
    up_to = request.POST.get("up_to", "")
    notices_mark_read(request.user, up_to=int(up_to) if up_to.isdigit() else None)
    return redirect("rides:notices")
