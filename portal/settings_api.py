"""Settings of REST API v1 (DRF and drf-spectacular): authentication by bearer token or
session, every call authenticated, cursor pages, JSON only, and the schema's shape (the
docs page's Swagger UI from the vendored sidecar files). Imported by portal/settings.py."""

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "portal.api.PortalSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Safe-ride portal API",
    "DESCRIPTION": "REST API v1 of the Dinas PPAPP safe-ride portal.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Every state a ride may be in, under one name (rides/models/states.py).
    "ENUM_NAME_OVERRIDES": {"RideStatusEnum": "rides.models.states.RideStatus"},
    # The docs page (/api/v1/docs/) loads Swagger UI from the portal's own static files.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": False, "displayOperationId": False},
    "COMPONENT_SPLIT_REQUEST": True,
    # Path parameters as the URL converters match them (cases/urls.py, rides/urls.py; a
    # test holds these to the converters): a value outside them is no URL of the API.
    "PATH_CONVERTER_OVERRIDES": {
        "int": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
        "casecode": {"type": "string", "pattern": "^[A-Za-z]{3}-[0-9]{4}-[0-9]{6,9}$"},
        "rideref": {"type": "string", "pattern": "^[Rr][A-Za-z0-9]{1,31}$"},
    },
    # Bodies are documented as JSON, what integrations send (forms still parse).
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
}
