"""Middleware of the portal's own: the client's address and scheme believed only from a
trusted proxy, headers every answer carries (no caching of what the portal shows, the
browser features it may use), the session's limits (idle timeout, absolute limit), and
the branded 404 page in development too."""

from __future__ import annotations

import ipaddress
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found

from portal.views import is_passive

LOGIN_AT = "_portal_login_at"
SEEN_AT = "_portal_seen_at"
# The last activity is written at most this often (seconds): a session is not saved on
# every click, so the idle timeout is exact to within this.
TOUCH_EVERY = 60


def stamp_login(sender, request, user, **kwargs):
    """user_logged_in receiver: the login's time starts both limits."""
    now = int(time.time())
    request.session[LOGIN_AT] = now
    request.session[SEEN_AT] = now


class SessionLimits:
    """Signs the user out after SESSION_IDLE_SECONDS without activity, and after
    SESSION_COOKIE_AGE since the login whatever the activity. Requests to views marked
    `portal.views.passive` (htmx polls) check the limits but are no activity. A page
    request lands on the login page with the reason; an htmx request gets HX-Redirect
    there; an API request goes on signed out (401)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not request.user.is_authenticated:
            return None
        session, now = request.session, int(time.time())
        login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
        if login_at is None or seen_at is None:  # a session older than these limits
            session[LOGIN_AT] = login_at or now
            session[SEEN_AT] = now
            return None
        if now - login_at > settings.SESSION_COOKIE_AGE:
            hours = max(1, round(settings.SESSION_COOKIE_AGE / 3600))
            return self._sign_out(
                request,
                _("You were signed out: a session lasts at most %(hours)s hours. Log in again.")
                % {"hours": hours},
            )
        if now - seen_at > settings.SESSION_IDLE_SECONDS:
            minutes = max(1, round(settings.SESSION_IDLE_SECONDS / 60))
            return self._sign_out(
                request,
                _("You were signed out after %(minutes)s minutes without activity.")
                % {"minutes": minutes},
            )
        if not is_passive(view_func) and now - seen_at >= TOUCH_EVERY:
            session[SEEN_AT] = now
        return None

    @staticmethod
    def _sign_out(request, message):
        logout(request)
        if request.path.startswith("/api/"):
            return None  # answered as for anyone signed out: 401
        messages.info(request, message)
        htmx = getattr(request, "htmx", None)
        if htmx:
            page = htmx.current_url_abs_path or "/"
            response = HttpResponse(status=204)
            response["HX-Redirect"] = redirect_to_login(page)["Location"]
            return response
        return redirect_to_login(request.get_full_path())


def _networks(values) -> tuple:
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values if value)


def _is_trusted(address: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


class TrustedProxyClientAddress:
    """First in the chain, so everything after it (the SSL redirect, login throttling, the
    access and audit logs) sees the real client.

    A request that comes from an address in settings.PORTAL_TRUSTED_PROXIES (the TLS proxy
    in front of gunicorn) is believed about the client: REMOTE_ADDR becomes the nearest
    address in X-Forwarded-For that is not itself a trusted proxy, and its
    X-Forwarded-Proto says whether the browser used https. From anyone else both headers
    are dropped: anybody can send them, and an attacker who could would pick the address
    the throttling counts, or make the portal believe plain http was https.
    """

    FORWARDED = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST")

    def __init__(self, get_response):
        self.get_response = get_response
        self.networks = _networks(settings.PORTAL_TRUSTED_PROXIES)

    def __call__(self, request):
        meta = request.META
        if self.networks and _is_trusted(meta.get("REMOTE_ADDR", ""), self.networks):
            hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
            for hop in reversed([hop for hop in hops if hop]):
                if not _is_trusted(hop, self.networks):
                    try:
                        meta["REMOTE_ADDR"] = str(ipaddress.ip_address(hop))
                    except ValueError:
                        pass  # a garbled hop: keep the proxy's own address
                    break
        else:
            for header in self.FORWARDED:
                meta.pop(header, None)
        return self.get_response(request)


class SecurityHeaders:
    """Every answer of the portal itself (static files are answered before this, by
    WhiteNoise, with their own long caching) carries:

    - `Cache-Control: no-store, private`: a page, partial, export or API answer may show a
      survivor's data, and a shared or family computer must not keep it in its cache or
      show it again with the back button after logout. Answers that chose no-store
      already (never_cache) keep theirs.
    - `Permissions-Policy` (settings.PERMISSIONS_POLICY): no camera, microphone,
      geolocation, payment or sensors for any page or anything it embeds.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "no-store" not in response.get("Cache-Control", ""):
            if response.has_header("Cache-Control"):
                del response["Cache-Control"]
            patch_cache_control(response, no_store=True, private=True)
        if settings.PERMISSIONS_POLICY:
            response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class BrandedNotFound:
    """With DEBUG on, Django answers a view's Http404 with its technical page (URL
    patterns, the exception's text: whether a case of another unit exists). The portal's
    404 page answers instead, as in production. Unmatched URLs keep Django's page in
    development (it lists the URL patterns, useful and about no one's data)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if settings.DEBUG and isinstance(exception, Http404):
            return page_not_found(request, exception)
        return None
