"""AuditContext: makes the request known to the audit trail while it is answered
(audit/context.py), and records every denied attempt of a logged-in person: a 403 answer,
or a 404 answered by a view (a case or ride not theirs to see). An anonymous request sent
to the login page is not a denied attempt; a URL that matches no view is not one either."""

from __future__ import annotations

from audit.context import request_reset, request_set
from audit.models import Kind
from audit.services import audit_record


class AuditContext:
    """After AuthenticationMiddleware (it reads request.user)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = request_set(request)
        try:
            response = self.get_response(request)
            if _denied(request, response):
                match = request.resolver_match
                audit_record(
                    Kind.DENIED,
                    action=str(response.status_code),
                    object_type="",
                    object_id=(match.view_name if match else "")[:64],
                    unit_id=getattr(request.user, "unit_id", None),
                    request=request,
                )
            return response
        finally:
            request_reset(token)


def _denied(request, response) -> bool:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    if response.status_code == 403:
        return True
    return response.status_code == 404 and getattr(request, "resolver_match", None) is not None
