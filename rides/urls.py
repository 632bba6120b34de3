from django.urls import path, register_converter

from rides import views


class RideReferenceConverter:
    """R + letters and digits (see rides.models.new_reference); looked up in upper case."""

    regex = r"[Rr][A-Za-z0-9]{1,31}"

    def to_python(self, value: str) -> str:
        return value.upper()

    def to_url(self, value) -> str:
        return str(value)


register_converter(RideReferenceConverter, "rideref")

app_name = "rides"

urlpatterns = [
    path("", views.ride_list, name="list"),
    path("book/", views.ride_new, name="book"),
    path("book/estimate/", views.ride_estimate, name="estimate"),
    path("approvals/", views.approval_queue, name="approvals"),
    path("<rideref:reference>/", views.ride_detail, name="detail"),
    path("<rideref:reference>/live/", views.ride_live, name="live"),
    path("<rideref:reference>/cancel/", views.ride_cancel, name="cancel"),
    path("<rideref:reference>/rebook/", views.ride_rebook, name="rebook"),
    path("<rideref:reference>/retry/", views.ride_retry, name="retry"),
    path("<rideref:reference>/approve/", views.ride_approve, name="approve"),
    path("<rideref:reference>/reject/", views.ride_reject, name="reject"),
]
