"""The triplog pages' URLs (mounted at /supervision/trips/); a ride is named by its
reference (the rides app's `rideref` converter)."""

from django.urls import path

import rides.urls  # noqa: F401  (registers the rideref converter)
from supervision.triplog import views

urlpatterns = [
    path("", views.trip_log, name="trip_log"),
    path("export.csv", views.trip_log_csv, name="trip_log_csv"),
    path("export.xlsx", views.trip_log_xlsx, name="trip_log_xlsx"),
    path("<rideref:reference>/", views.trip_timeline, name="trip_timeline"),
]
