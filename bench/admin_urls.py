"""The portal's URLs plus Django's admin change list of rides at /bench-admin/, with the
trip log's columns, filters and page size (bench/settings_admin.py mounts it for the
page benchmark only)."""

from django.contrib import admin
from django.urls import path

from portal.urls import urlpatterns as portal_urlpatterns
from rides.models import Ride
from supervision.triplog.selectors import PAGE_SIZE

site = admin.AdminSite(name="bench_admin")


class RideAdmin(admin.ModelAdmin):
    list_display = [
        "reference",
        "created_at",
        "unit",
        "booked_by",
        "purpose",
        "status",
        "partner_account",
        "final_fare",
    ]
    list_filter = ["unit", "booked_by", "purpose", "status", "partner_account", "created_at"]
    list_select_related = ["unit", "booked_by", "partner_account"]
    list_per_page = PAGE_SIZE
    ordering = ["-created_at", "-id"]


site.register(Ride, RideAdmin)

urlpatterns = [path("bench-admin/", site.urls), *portal_urlpatterns]
