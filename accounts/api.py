"""REST API v1 for users and API tokens (admins only), through the services the admin
pages use (accounts/services.py): the user list, an invitation (the one-time link goes
by email), role and unit, deactivation; tokens listed, issued (the value is in the
answer to that POST only: just its hash is stored) and revoked."""

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

from accounts import services
from accounts.models import ApiToken, Role, Unit, User, hash_token
from portal.api import AdminRole, NewestFirst, service_errors
from portal.idempotency import IDEMPOTENCY_PARAMETER, idempotent


class ByUsername(CursorPagination):
    ordering = ("username", "id")


class UserOut(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    first_name = serializers.CharField(allow_blank=True)
    last_name = serializers.CharField(allow_blank=True)
    email = serializers.CharField(allow_blank=True)
    role = serializers.ChoiceField(choices=Role.choices)
    unit = serializers.CharField(source="unit.code", allow_null=True, default=None)
    is_active = serializers.BooleanField()
    date_joined = serializers.DateTimeField()


UNIT_CODE = serializers.SlugField(
    max_length=20, allow_null=True, required=False, help_text="A unit's code; null for admins."
)


class UserInviteIn(serializers.Serializer):
    username = serializers.RegexField(r"^[\w.@+-]+\Z", max_length=150)
    email = serializers.EmailField(max_length=254)
    first_name = serializers.CharField(max_length=150, required=False, default="")
    last_name = serializers.CharField(max_length=150, required=False, default="")
    role = serializers.ChoiceField(choices=Role.choices)
    unit = serializers.SlugField(max_length=20, allow_null=True, required=False, default=None)


class UserChangeIn(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)
    unit = serializers.SlugField(max_length=20, allow_null=True, required=False, default=None)


def _unit(code: str | None) -> Unit | None:
    if not code:
        return None
    unit = Unit.objects.filter(code=code).first()
    if unit is None:
        raise DjangoValidationError({"unit": [_("There is no unit with this code.")]})
    return unit


def _users():
    return User.objects.select_related("unit")


class UserListApi(GenericAPIView):
    permission_classes = [IsAuthenticated, AdminRole]
    pagination_class = ByUsername
    serializer_class = UserOut

    def get_queryset(self):
        return _users()

    @extend_schema(responses=UserOut(many=True), summary="Users")
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(UserOut(page, many=True).data)

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=UserInviteIn,
        responses={201: UserOut},
        summary="Invite a user (a one-time link to choose a password goes by email)",
    )
    @idempotent
    def post(self, request):
        incoming = UserInviteIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        try:
            data["unit"] = _unit(data["unit"])
            user = services.user_invite(actor=request.user, **data)
        except DjangoValidationError as exc:
            raise service_errors(exc) from exc
        return Response(UserOut(_users().get(pk=user.pk)).data, status=status.HTTP_201_CREATED)


class UserDetailApi(GenericAPIView):
    permission_classes = [IsAuthenticated, AdminRole]
    serializer_class = UserOut

    @extend_schema(responses=UserOut, summary="One user")
    def get(self, request, pk):
        return Response(UserOut(get_object_or_404(_users(), pk=pk)).data)

    @extend_schema(
        request=UserChangeIn,
        responses=UserOut,
        summary="Change a user's role and unit (moved to another unit, the old unit's "
        "cases are unassigned and its supervisors told)",
    )
    def patch(self, request, pk):
        person = get_object_or_404(_users(), pk=pk)
        incoming = UserChangeIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            services.user_update(
                actor=request.user,
                user=person,
                role=incoming.validated_data["role"],
                unit=_unit(incoming.validated_data["unit"]),
            )
        except DjangoValidationError as exc:
            raise service_errors(exc) from exc
        return Response(UserOut(_users().get(pk=pk)).data)


class UserDeactivateApi(GenericAPIView):
    permission_classes = [IsAuthenticated, AdminRole]
    serializer_class = UserOut

    @extend_schema(
        request=None,
        responses=UserOut,
        summary="Deactivate a user: signed out everywhere, every API token revoked",
    )
    def post(self, request, pk):
        person = get_object_or_404(_users(), pk=pk)
        try:
            services.user_deactivate(actor=request.user, user=person)
        except DjangoValidationError as exc:
            raise service_errors(exc) from exc
        return Response(UserOut(_users().get(pk=pk)).data)


# --- API tokens --------------------------------------------------------------------------


class TokenOut(serializers.Serializer):
    id = serializers.IntegerField()
    user = serializers.CharField(source="user.username")
    name = serializers.CharField(allow_blank=True)
    prefix = serializers.CharField(help_text="The token's first characters, to recognise it.")
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)


class TokenIssuedOut(TokenOut):
    token = serializers.CharField(help_text="The token itself: shown this once, never again.")


class TokenIssueIn(serializers.Serializer):
    user = serializers.IntegerField(min_value=1, help_text="The id of the user it acts as.")
    name = serializers.CharField(max_length=80, required=False, default="")
    expires_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="Absent or null: no expiry."
    )


def _tokens():
    return ApiToken.objects.select_related("user")


class TokenListApi(GenericAPIView):
    permission_classes = [IsAuthenticated, AdminRole]
    pagination_class = NewestFirst
    serializer_class = TokenOut

    def get_queryset(self):
        return _tokens()

    @extend_schema(responses=TokenOut(many=True), summary="API tokens (never their values)")
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(TokenOut(page, many=True).data)

    @extend_schema(
        request=TokenIssueIn,
        responses={201: TokenIssuedOut},
        summary="Issue a token: its value is in this answer only",
    )
    def post(self, request):
        incoming = TokenIssueIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        holder = User.objects.filter(pk=data["user"]).first()
        if holder is None:
            raise service_errors(
                DjangoValidationError({"user": [_("Choose the user the token acts as.")]})
            )
        try:
            raw = services.api_token_issue(
                actor=request.user, user=holder, name=data["name"], expires_at=data["expires_at"]
            )
        except DjangoValidationError as exc:
            raise service_errors(exc) from exc
        token = _tokens().get(key_hash=hash_token(raw))
        response = Response({**TokenOut(token).data, "token": raw}, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response


class TokenRevokeApi(GenericAPIView):
    permission_classes = [IsAuthenticated, AdminRole]
    serializer_class = TokenOut

    @extend_schema(request=None, responses=TokenOut, summary="Revoke a token (at once)")
    def post(self, request, pk):
        token = services.api_token_revoke(
            actor=request.user, token=get_object_or_404(ApiToken, pk=pk)
        )
        return Response(TokenOut(token).data)
