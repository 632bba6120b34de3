"""REST API v1 (mounted at /api/v1/). Every view here is DRF: authentication is DRF's
(session or `Authorization: Bearer <token>`), so LoginRequiredMiddleware is told to let
the requests through and an anonymous call gets 401, not a redirect. The schema and its
browsable docs (Swagger UI from the portal's own static files) are for signed-in users."""

from django.contrib.auth.decorators import login_not_required, login_required
from django.urls import path
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.views import SpectacularAPIView
from rest_framework.permissions import IsAuthenticated

from accounts import api as accounts_api
from cases import api as cases_api
from cases.urls import CaseCodeConverter  # noqa: F401 - registers <casecode:…>
from funding import api as funding_api
from partners import api as partners_api
from portal.api_docs import ApiDocsView
from rides.api import approvals as approvals_api
from rides.api import estimates as estimates_api
from rides.api import rides as rides_api
from rides.urls import RideReferenceConverter  # noqa: F401 - registers <rideref:…>

app_name = "api"


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Describes `Authorization: Bearer <token>` (tokens from `issue_api_token`) in the schema."""

    target_class = "accounts.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A token printed by `python manage.py issue_api_token USERNAME`, "
            "or issued by an admin at /admin/tokens/ or POST /api/v1/tokens/.",
        }


def api_view(view_class, **initkwargs):
    return login_not_required(view_class.as_view(**initkwargs))


def ride_path(tail: str, view_class, name: str):
    return path(f"rides/<rideref:reference>/{tail}", api_view(view_class), name=name)


urlpatterns = [
    path(
        "schema/",
        api_view(SpectacularAPIView, permission_classes=[IsAuthenticated]),
        name="schema",
    ),
    # A page: a visitor who is not signed in is sent to the login (DRF would answer 401).
    path("docs/", login_required(ApiDocsView.as_view(url_name="api:schema")), name="docs"),
    # cases, consent, places
    path("cases/", api_view(cases_api.CaseListApi), name="case-list"),
    path("cases/<casecode:code>/", api_view(cases_api.CaseDetailApi), name="case-detail"),
    path(
        "cases/<casecode:code>/consents/",
        api_view(cases_api.CaseConsentApi),
        name="case-consents",
    ),
    path("places/", api_view(cases_api.PlaceListApi), name="place-list"),
    path("places/search/", api_view(estimates_api.PlaceSearchApi), name="place-search"),
    # rides
    path("estimates/", api_view(estimates_api.EstimateApi), name="estimate"),
    path("rides/", api_view(rides_api.RideListApi), name="ride-list"),
    ride_path("", rides_api.RideDetailApi, "ride-detail"),
    ride_path("events/", rides_api.RideEventsApi, "ride-events"),
    ride_path("cancel/", rides_api.RideCancelApi, "ride-cancel"),
    ride_path("rebook/", rides_api.RideRebookApi, "ride-rebook"),
    ride_path("approve/", rides_api.RideApproveApi, "ride-approve"),
    ride_path("reject/", rides_api.RideRejectApi, "ride-reject"),
    # supervisors' work
    path("approvals/", api_view(approvals_api.ApprovalListApi), name="approval-list"),
    path("alerts/", api_view(approvals_api.AlertListApi), name="alert-list"),
    path(
        "alerts/<int:pk>/acknowledge/",
        api_view(approvals_api.AlertAcknowledgeApi),
        name="alert-acknowledge",
    ),
    # admins' work
    path("funding/", api_view(funding_api.FundingSummaryApi), name="funding-summary"),
    path(
        "partner-accounts/",
        api_view(partners_api.PartnerAccountListApi),
        name="partner-account-list",
    ),
    path(
        "partner-accounts/<int:pk>/",
        api_view(partners_api.PartnerAccountDetailApi),
        name="partner-account-detail",
    ),
    path(
        "partner-accounts/<int:pk>/enable/",
        api_view(partners_api.PartnerAccountEnabledApi, enabled=True),
        name="partner-account-enable",
    ),
    path(
        "partner-accounts/<int:pk>/disable/",
        api_view(partners_api.PartnerAccountEnabledApi, enabled=False),
        name="partner-account-disable",
    ),
    path("users/", api_view(accounts_api.UserListApi), name="user-list"),
    path("users/<int:pk>/", api_view(accounts_api.UserDetailApi), name="user-detail"),
    path(
        "users/<int:pk>/deactivate/",
        api_view(accounts_api.UserDeactivateApi),
        name="user-deactivate",
    ),
    path("tokens/", api_view(accounts_api.TokenListApi), name="token-list"),
    path("tokens/<int:pk>/revoke/", api_view(accounts_api.TokenRevokeApi), name="token-revoke"),
]
