"""The portal's own pages: home, /healthz (database, Redis, the worker's heartbeat),
/favicon.ico, and the error pages (a CSRF failure, a URL that matches nothing — in JSON
under /api/ —, a server error); the `public`, `admin_only` and `passive` marks of views."""

import time
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpResponsePermanentRedirect, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.defaults import page_not_found

from accounts.models import Role


def public(view):
    """Declares a view reachable without logging in (LoginRequiredMiddleware guards the rest)."""
    return login_not_required(view)


def passive(view):
    """Declares a view that pages call by themselves (htmx polls: a ride's live partial, a
    badge, any `…/live/` or `…/badge/` endpoint): a request to it is no sign that someone
    is at the screen, so it does not keep the session from its idle timeout
    (SESSION_IDLE_SECONDS, portal.middleware.SessionLimits). Every polled endpoint must
    carry it; tests/accounts/test_sessions.py checks the ones named live or badge."""
    view.passive = True
    return view


def is_passive(view) -> bool:
    return getattr(view, "passive", False) is True


def admin_only(view):
    """The admin pages (/admin/…): administrators only, 403 for every other role. The
    answers are never cached (some carry a secret shown once)."""

    @wraps(view)
    @never_cache
    def guarded(request, *args, **kwargs):
        if getattr(request.user, "role", None) != Role.ADMIN or not request.user.is_active:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return guarded


def home(request):
    return render(request, "portal/home.html")


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False


def _broker_and_worker() -> tuple[bool, bool]:
    import redis

    try:
        client = redis.Redis.from_url(
            settings.CELERY_BROKER_URL, socket_connect_timeout=1, socket_timeout=1
        )
        client.ping()
        beat = client.get(settings.WORKER_HEARTBEAT_KEY)
    except Exception:  # noqa: BLE001
        return False, False
    worker_ok = beat is not None and time.time() - float(beat) < settings.WORKER_HEARTBEAT_MAX_AGE
    return True, worker_ok


@public
@never_cache
@require_GET
def healthz(request):
    """For load balancers: reachability only, nothing else about the portal."""
    database = _database_ok()
    broker, worker = _broker_and_worker()
    body = {
        "status": "ok" if database and broker and worker else "degraded",
        "database": "ok" if database else "unreachable",
        "broker": "ok" if broker else "unreachable",
        "worker": "ok" if worker else "unreachable",
    }
    # The web node can serve while workers catch up; without database or broker it cannot.
    return JsonResponse(body, status=200 if database and broker else 503)


@public
@require_GET
def favicon(request):
    """Browsers ask for /favicon.ico on every page; the icon is the static SVG."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


def csrf_failure(request, reason=""):
    """A form posted without a valid token (CSRF_FAILURE_VIEW): say what to do, in the
    user's language; the reason stays in the log, not on the page."""
    return render(request, "403_csrf.html", status=403)


def not_found(request, exception=None):
    """handler404: the API's clients read JSON ({"detail"}, as every API answer), so a
    URL under /api/ that matches nothing says so in JSON; elsewhere the portal's page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return page_not_found(request, exception)


def server_error(request):
    """handler500: a page in both languages that needs nothing from the request (the
    error may be in the database, the session or a context processor)."""
    return HttpResponseServerError(loader.get_template("500.html").render())
