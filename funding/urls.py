"""The fund's pages for admins, under /admin/funding/."""

from django.urls import path

from funding.views import pages, records

app_name = "funding"

urlpatterns = [
    path("", pages.funding_page, name="page"),
    path("report.csv", pages.report_csv, name="report_csv"),
    path("report.xlsx", pages.report_xlsx, name="report_xlsx"),
    path("funders/", records.funders, name="funders"),
    path("agreements/", records.agreements, name="agreements"),
    path("agreements/<int:pk>/", records.agreement_detail, name="agreement"),
    path("tranches/<int:pk>/receive/", records.tranche_receive, name="tranche_receive"),
    path("adjustments/", records.adjustments, name="adjustments"),
    path("adjustments/<int:pk>/confirm/", records.adjustment_confirm, name="adjustment_confirm"),
    path("ledger/", records.ledger, name="ledger"),
]
