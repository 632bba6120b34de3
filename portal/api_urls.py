"""REST API v1 (mounted at /api/v1/). Every view here is DRF: authentication is DRF's
(session or `Authorization: Bearer <token>`), so LoginRequiredMiddleware is told to let
the requests through and an anonymous call gets 401, not a redirect."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.views import SpectacularAPIView
from rest_framework.permissions import IsAuthenticated

from cases import api as cases_api
from cases.urls import CaseCodeConverter  # noqa: F401 - registers <casecode:…>
from rides import api as rides_api
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
            "description": "A token printed by `python manage.py issue_api_token USERNAME`.",
        }


def api_view(view_class, **initkwargs):
    return login_not_required(view_class.as_view(**initkwargs))


urlpatterns = [
    path(
        "schema/",
        api_view(SpectacularAPIView, permission_classes=[IsAuthenticated]),
        name="schema",
    ),
    path("cases/", api_view(cases_api.CaseListApi), name="case-list"),
    path("cases/<casecode:code>/", api_view(cases_api.CaseDetailApi), name="case-detail"),
    path(
        "cases/<casecode:code>/consents/",
        api_view(cases_api.CaseConsentApi),
        name="case-consents",
    ),
    path("places/", api_view(cases_api.PlaceListApi), name="place-list"),
    path("rides/", api_view(rides_api.RideListApi), name="ride-list"),
    path("rides/<rideref:reference>/", api_view(rides_api.RideDetailApi), name="ride-detail"),
    path(
        "rides/<rideref:reference>/cancel/", api_view(rides_api.RideCancelApi), name="ride-cancel"
    ),
    path(
        "rides/<rideref:reference>/rebook/", api_view(rides_api.RideRebookApi), name="ride-rebook"
    ),
    path(
        "rides/<rideref:reference>/approve/",
        api_view(rides_api.RideApproveApi),
        name="ride-approve",
    ),
    path(
        "rides/<rideref:reference>/reject/", api_view(rides_api.RideRejectApi), name="ride-reject"
    ),
]
