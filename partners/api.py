"""REST API v1 for partner accounts (admins only): list, detail, create, change, enable
and disable, through the services the admin pages use (partners/services.py).

The credentials are write-only: `client_secret` and `webhook_secret` are accepted on
create and change (blank or absent on a change: unchanged) and never appear in an answer;
the answer says only whether each is set.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.models import Unit
from partners import services
from partners.models import PartnerAccount
from partners.selectors import partner_account_webhook_url
from portal.api import NOT_BLANK, AdminRole, described, service_errors
from portal.idempotency import IDEMPOTENCY_PARAMETER, idempotent

RATE_LIMIT_DEFAULT = 300


class ByName(CursorPagination):
    ordering = ("name", "id")


class PartnerAccountOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    base_url = serializers.CharField()
    client_id = serializers.CharField()
    client_secret_set = serializers.SerializerMethodField()
    webhook_secret_set = serializers.SerializerMethodField()
    enabled = serializers.BooleanField()
    rate_limit_per_minute = serializers.IntegerField()
    default_units = serializers.SerializerMethodField(
        help_text="Codes of the units that book with this account by default."
    )
    webhook_url = serializers.SerializerMethodField(help_text="To give the partner.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_client_secret_set(self, account) -> bool:
        return bool(account.client_secret)

    def get_webhook_secret_set(self, account) -> bool:
        return bool(account.webhook_secret)

    def get_default_units(self, account) -> list[str]:
        return sorted(default.unit.code for default in account.default_for.all())

    def get_webhook_url(self, account) -> str:
        return partner_account_webhook_url(account)


class UnitCodesField(serializers.ListField):
    """Codes of units that have no other default account."""

    child = serializers.SlugField(max_length=20)


BASE_URL_SCHEMA = {
    "type": "string",
    "maxLength": 200,
    "pattern": r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$",
    "description": "The partner's API. In production: https, on a host whose every address "
    "is public.",
}
# whsec_ and the base64 of at least 16 bytes (partners.services._webhook_secret_problem).
WEBHOOK_SECRET_PATTERN = r"^whsec_([A-Za-z0-9+/]{4}){6,}([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
TEXT = {"type": "string", "minLength": 1, "pattern": NOT_BLANK}
NameField = described(serializers.CharField, {**TEXT, "maxLength": 80})
ClientIdField = described(serializers.CharField, {**TEXT, "maxLength": 200})
BaseUrlField = described(serializers.CharField, BASE_URL_SCHEMA)
SecretField = described(serializers.CharField, {**TEXT, "writeOnly": True})
WebhookSecretField = described(
    serializers.CharField, {"type": "string", "pattern": WEBHOOK_SECRET_PATTERN, "writeOnly": True}
)


class PartnerAccountIn(serializers.Serializer):
    """Blank values pass here: the service's messages say what each needs, all at once."""

    name = NameField(max_length=80, allow_blank=True)
    base_url = BaseUrlField(max_length=200, allow_blank=True)
    client_id = ClientIdField(max_length=200, allow_blank=True)
    client_secret = SecretField(write_only=True, trim_whitespace=False, allow_blank=True)
    webhook_secret = WebhookSecretField(
        write_only=True, allow_blank=True, help_text="whsec_ and base64 of at least 16 bytes."
    )
    rate_limit_per_minute = serializers.IntegerField(
        required=False, default=RATE_LIMIT_DEFAULT, min_value=1, max_value=services.MAX_RATE_LIMIT
    )
    default_units = UnitCodesField(required=False, default=list)


class PartnerAccountChangeIn(PartnerAccountIn):
    """Only the keys given change; a blank or absent secret stays as it is."""

    name = NameField(max_length=80, required=False)
    base_url = BaseUrlField(max_length=200, required=False)
    client_id = ClientIdField(max_length=200, required=False)
    client_secret = serializers.CharField(
        write_only=True, required=False, allow_blank=True, trim_whitespace=False
    )
    webhook_secret = serializers.CharField(write_only=True, required=False, allow_blank=True)
    rate_limit_per_minute = serializers.IntegerField(
        required=False, min_value=1, max_value=services.MAX_RATE_LIMIT
    )
    default_units = UnitCodesField(required=False)


def _units(codes: list[str]) -> list[Unit]:
    units = list(Unit.objects.filter(code__in=codes).order_by("code"))
    missing = sorted(set(codes) - {unit.code for unit in units})
    if missing:
        known = ", ".join(Unit.objects.order_by("code").values_list("code", flat=True)) or "-"
        raise DjangoValidationError(
            {
                "default_units": [
                    _("There is no unit with the code %(code)s (known units: %(known)s).")
                    % {"code": code, "known": known}
                    for code in missing
                ]
            }
        )
    return units


def _with_other_problems(units_refused: DjangoValidationError, data: dict, account=None):
    """The unknown units' messages and the service's about every other field, at once."""
    problems = services.partner_account_problems(
        account=account,
        name=data.get("name", "").strip(),
        base_url=data.get("base_url", "").strip(),
        client_id=data.get("client_id", "").strip(),
        client_secret=data.get("client_secret", ""),
        webhook_secret=data.get("webhook_secret", "").strip(),
        rate_limit_per_minute=data.get("rate_limit_per_minute"),
        allow_internal=None,
    )
    return service_errors(DjangoValidationError({**problems, **units_refused.message_dict}))


def _accounts():
    return PartnerAccount.objects.prefetch_related("default_for__unit")


class PartnerAccountListApi(GenericAPIView):
    permission_classes = [IsAuthenticated, AdminRole]
    pagination_class = ByName
    serializer_class = PartnerAccountOut

    def get_queryset(self):
        return _accounts()

    @extend_schema(responses=PartnerAccountOut(many=True), summary="Partner accounts")
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(PartnerAccountOut(page, many=True).data)

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=PartnerAccountIn,
        responses={201: PartnerAccountOut},
        summary="Add a partner account",
    )
    @idempotent
    def post(self, request):
        incoming = PartnerAccountIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        try:
            units = _units(data.pop("default_units"))
        except DjangoValidationError as exc:
            raise _with_other_problems(exc, data) from exc
        try:
            account = services.partner_account_create(
                actor=request.user, default_units=units, **data
            )
        except DjangoValidationError as exc:
            raise service_errors(exc) from exc
        return Response(
            PartnerAccountOut(_accounts().get(pk=account.pk)).data, status=status.HTTP_201_CREATED
        )


class PartnerAccountDetailApi(GenericAPIView):
    permission_classes = [IsAuthenticated, AdminRole]
    serializer_class = PartnerAccountOut

    @extend_schema(responses=PartnerAccountOut, summary="One partner account")
    def get(self, request, pk):
        return Response(PartnerAccountOut(get_object_or_404(_accounts(), pk=pk)).data)

    @extend_schema(
        request=PartnerAccountChangeIn,
        responses=PartnerAccountOut,
        summary="Change a partner account (only the keys given)",
    )
    def patch(self, request, pk):
        account = get_object_or_404(_accounts(), pk=pk)
        incoming = PartnerAccountChangeIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        try:
            units = (
                _units(data["default_units"])
                if "default_units" in data
                else [default.unit for default in account.default_for.all()]
            )
            services.partner_account_update(
                actor=request.user,
                account=account,
                name=data.get("name", account.name),
                base_url=data.get("base_url", account.base_url),
                client_id=data.get("client_id", account.client_id),
                rate_limit_per_minute=data.get(
                    "rate_limit_per_minute", account.rate_limit_per_minute
                ),
                default_units=units,
                client_secret=data.get("client_secret", ""),
                webhook_secret=data.get("webhook_secret", ""),
            )
        except DjangoValidationError as exc:
            raise service_errors(exc) from exc
        return Response(PartnerAccountOut(_accounts().get(pk=pk)).data)


class PartnerAccountEnabledApi(GenericAPIView):
    """POST …/enable/ or …/disable/ (`enabled` is given by the URL)."""

    permission_classes = [IsAuthenticated, AdminRole]
    serializer_class = PartnerAccountOut
    enabled = True

    @extend_schema(request=None, responses=PartnerAccountOut)
    def post(self, request, pk):
        account = get_object_or_404(PartnerAccount, pk=pk)
        services.partner_account_set_enabled(
            actor=request.user, account=account, enabled=self.enabled
        )
        return Response(PartnerAccountOut(_accounts().get(pk=pk)).data)
