"""REST API v1 for supervisors' work: the approval queue and the alerts.

- `GET /api/v1/approvals/`: the rides of the supervisor's unit waiting for a decision,
  oldest first (rides.selectors.rides_awaiting_approval_for, as the queue page); approve
  and reject are `POST /api/v1/rides/{reference}/approve/` and `…/reject/`.
- `GET /api/v1/alerts/`: the caller's open alerts (supervisors their units', admins the
  fund's), newest first; `?state=all` adds those acknowledged, with who, when and the
  note. `POST /api/v1/alerts/{id}/acknowledge/` with {"note"} ends one
  (rides.pipeline.alerts.alert_acknowledge). An alert the caller is not shown is 404.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from accounts.models import Role
from portal.api import NewestFirst, SupervisorRole, service_errors
from rides.api.outputs import RideOut, ride_out_reads
from rides.models import Alert, AlertKind
from rides.pipeline.alerts import alert_acknowledge
from rides.selectors import rides_awaiting_approval_for

NOTE_MAX_LENGTH = 2000


class OldestFirst(CursorPagination):
    ordering = ("created_at", "id")


class ApprovalListApi(GenericAPIView):
    permission_classes = [IsAuthenticated, SupervisorRole]
    pagination_class = OldestFirst
    serializer_class = RideOut

    def get_queryset(self):
        return ride_out_reads(rides_awaiting_approval_for(self.request.user))

    @extend_schema(
        responses=RideOut(many=True),
        summary="Rides of the supervisor's unit waiting for approval, oldest first",
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(RideOut(page, many=True).data)


# --- alerts --------------------------------------------------------------------------------


class AlertRoles(BasePermission):
    """Supervisors (their units' alerts) and admins (the fund's)."""

    def has_permission(self, request, view):
        return request.user.role in (Role.SUPERVISOR, Role.ADMIN)


class AlertOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=AlertKind.choices)
    kind_label = serializers.CharField(source="get_kind_display")
    message = serializers.CharField()
    ride = serializers.CharField(source="ride.reference", allow_null=True, default=None)
    unit = serializers.CharField(source="unit.code", allow_null=True, default=None)
    created_at = serializers.DateTimeField()
    cleared_at = serializers.DateTimeField(
        allow_null=True, help_text="When the condition ended on its own."
    )
    acknowledged_at = serializers.DateTimeField(source="resolved_at", allow_null=True)
    acknowledged_by = serializers.CharField(
        source="resolved_by.username", allow_null=True, default=None
    )
    note = serializers.CharField(source="acknowledgement_note", allow_blank=True)


class AcknowledgeIn(serializers.Serializer):
    note = serializers.CharField(
        allow_blank=True,
        max_length=NOTE_MAX_LENGTH,
        help_text="What was done about it.",
    )


class AlertStateIn(serializers.Serializer):
    state = serializers.ChoiceField(choices=["open", "all"], required=False, default="open")


def alerts_for(user):
    return Alert.objects.for_user(user).select_related("ride", "unit", "resolved_by")


class AlertListApi(GenericAPIView):
    permission_classes = [IsAuthenticated, AlertRoles]
    pagination_class = NewestFirst
    serializer_class = AlertOut
    filters_in = AlertStateIn

    def get_queryset(self):
        wanted = AlertStateIn(data=self.request.query_params)
        wanted.is_valid(raise_exception=True)
        alerts = alerts_for(self.request.user)
        if wanted.validated_data["state"] == "open":
            alerts = alerts.open()
        return alerts

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "state",
                str,
                enum=["open", "all"],
                description="`open` (the default): not acknowledged yet; `all`: the history too.",
            )
        ],
        responses=AlertOut(many=True),
        summary="The caller's alerts, newest first",
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(AlertOut(page, many=True).data)


class AlertAcknowledgeApi(GenericAPIView):
    permission_classes = [IsAuthenticated, AlertRoles]
    serializer_class = AlertOut

    @extend_schema(
        request=AcknowledgeIn,
        responses=AlertOut,
        summary="Acknowledge an alert with a note (a second time changes nothing)",
    )
    def post(self, request, pk):
        if not alerts_for(request.user).filter(pk=pk).exists():
            raise Http404(_("No alert with this number that you may see."))
        incoming = AcknowledgeIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            alert_acknowledge(alert_id=pk, user=request.user, note=incoming.validated_data["note"])
        except DjangoValidationError as exc:
            raise service_errors(exc) from exc
        return Response(AlertOut(alerts_for(request.user).get(pk=pk)).data)
