"""The gate of the second factor: a signed-in user who still owes a code (or, for a role
that needs one, an enrolment) reaches nothing but the sign-in pages, public pages and
logging out. Everything else sends them to the code step or to enrolment; an htmx request
gets HX-Redirect; an API request with the session gets 403."""

from __future__ import annotations

from urllib.parse import urlparse

from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _

from accounts.two_factor import pending_step

STEPS = ("two_factor_verify", "two_factor_enrol")
OPEN_WHILE_OWED = {"logout", "set_language", *STEPS}
# Pages under /api/ (for people, not integrations): sent to the code step like any page.
API_PAGES = {"api:docs"}


class TwoFactorGate:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        owed = pending_step(request)
        if owed is None:
            return None
        match = request.resolver_match
        api_page = match is not None and match.view_name in API_PAGES
        if request.path.startswith("/api/") and not api_page:
            # The API's views are public to the login middleware (they answer 401
            # themselves), but a session that owes a code gets nothing from them.
            return JsonResponse({"detail": _("Finish the two-factor login first.")}, status=403)
        if getattr(view_func, "login_required", True) is False and not api_page:
            return None  # public: what anyone signed out may see
        if match is not None and match.view_name in OPEN_WHILE_OWED:
            return None
        target = reverse("two_factor_verify" if owed == "verify" else "two_factor_enrol")
        htmx = getattr(request, "htmx", None)
        page = (htmx.current_url_abs_path if htmx else request.get_full_path()) or "/"
        if url_has_allowed_host_and_scheme(page, allowed_hosts={request.get_host()}):
            target += "?" + urlencode({"next": page})
        if htmx:
            response = HttpResponse(status=204)
            if urlparse(page).path not in {reverse(step) for step in STEPS}:
                # A poll from the code step's own page (the header's badge) gets nothing,
                # not a redirect to where it already is.
                response["HX-Redirect"] = target
            return response
        return redirect(target)
