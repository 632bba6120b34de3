"""REST API v1 for the fund: `GET /api/v1/funding/`, the summary the funding page shows
(funding.selectors.fund_overview and fund_alerts) — aggregated numbers only, no ride and
no case. Admins only, as the funding page: supervisors read spend against their budget in
the reports."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from funding.selectors import (
    fund_alerts,
    fund_overview,
    funding_rules,
    spend_by_purpose,
    spend_by_unit,
)
from portal.api import AdminRole


class BalanceOut(serializers.Serializer):
    received = serializers.IntegerField()
    charged = serializers.IntegerField()
    held = serializers.IntegerField()
    available = serializers.IntegerField()


class NextTrancheOut(serializers.Serializer):
    planned_on = serializers.DateField()
    planned_amount = serializers.IntegerField()


class MonthSpendOut(serializers.Serializer):
    month = serializers.DateField(help_text="The month's first day.")
    spent = serializers.IntegerField()


class BurnPointOut(serializers.Serializer):
    month = serializers.DateField()
    scheduled = serializers.IntegerField(help_text="Tranches planned up to this month.")
    spent = serializers.IntegerField(allow_null=True, help_text="Null: still to come.")
    forecast = serializers.IntegerField(allow_null=True)


class NamedSpendOut(serializers.Serializer):
    name = serializers.CharField()
    spent = serializers.IntegerField()


class FundingSummaryOut(serializers.Serializer):
    """Every amount in whole rupiah."""

    currency = serializers.ChoiceField(choices=["IDR"])
    balance = BalanceOut()
    spent_this_month = serializers.IntegerField()
    spent_this_year = serializers.IntegerField()
    rides_charged = serializers.IntegerField()
    cost_per_ride = serializers.IntegerField(allow_null=True)
    monthly_rate = serializers.IntegerField(help_text="The last three months' average spend.")
    next_tranche = NextTrancheOut(allow_null=True)
    by_month = MonthSpendOut(many=True)
    by_unit = NamedSpendOut(many=True)
    by_purpose = NamedSpendOut(many=True)
    burn_down = BurnPointOut(many=True)
    alerts = serializers.ListField(child=serializers.CharField())


class FundingSummaryApi(GenericAPIView):
    permission_classes = [IsAuthenticated, AdminRole]
    serializer_class = FundingSummaryOut

    @extend_schema(responses=FundingSummaryOut, summary="The fund in numbers (admins)")
    def get(self, request):
        overview = fund_overview()
        balance = overview.balance
        answer = {
            "currency": "IDR",
            "balance": {
                "received": balance.received,
                "charged": balance.charged,
                "held": balance.held,
                "available": balance.available,
            },
            "spent_this_month": overview.spent_this_month,
            "spent_this_year": overview.spent_this_year,
            "rides_charged": overview.completed_rides,
            "cost_per_ride": overview.cost_per_ride,
            "monthly_rate": overview.monthly_rate,
            "next_tranche": overview.next_tranche,
            "by_month": [{"month": m, "spent": spent} for m, spent in overview.by_month],
            "by_unit": [{"name": name, "spent": spent} for name, spent in spend_by_unit()],
            "by_purpose": [{"name": name, "spent": spent} for name, spent in spend_by_purpose()],
            "burn_down": overview.burn,
            "alerts": fund_alerts(overview, threshold=funding_rules().low_balance_threshold),
        }
        return Response(FundingSummaryOut(answer).data)
