"""The reports pages' URLs."""

from django.urls import path

from supervision.reports import views

urlpatterns = [
    path("", views.report_page, name="reports"),
    path("report.csv", views.report_csv, name="reports_csv"),
    path("report.xlsx", views.report_xlsx, name="reports_xlsx"),
    path("simfoni.csv", views.simfoni_csv, name="reports_simfoni_csv"),
    path("simfoni.xlsx", views.simfoni_xlsx, name="reports_simfoni_xlsx"),
]
