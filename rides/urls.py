"""The booking and ride pages' URLs (mounted at /rides/); a ride is named by its reference."""

from django.urls import path, register_converter

from rides.views import address_search, arrival, book, history, lists, notices, ride


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
    path("", lists.ride_list, name="list"),
    path("book/", book.ride_new, name="book"),
    path("book/estimate/", book.ride_estimate, name="estimate"),
    path("book/address-search/", address_search.address_search, name="address_search"),
    path("approvals/", lists.approval_queue, name="approvals"),
    path("approvals/badge/", lists.approval_badge, name="approval_badge"),
    path("history/", history.ride_history, name="history"),
    path("notices/", notices.notice_list, name="notices"),
    path("notices/badge/", notices.notice_badge, name="notice_badge"),
    path("notices/read/", notices.notices_read, name="notices_read"),
    path("<rideref:reference>/", ride.ride_detail, name="detail"),
    path("<rideref:reference>/live/", ride.ride_live, name="live"),
    path("<rideref:reference>/cancel/", ride.ride_cancel, name="cancel"),
    path("<rideref:reference>/rebook/", ride.ride_rebook, name="rebook"),
    path("<rideref:reference>/retry/", ride.ride_retry, name="retry"),
    path("<rideref:reference>/arrival/", arrival.ride_arrival, name="arrival"),
    path("<rideref:reference>/approve/", lists.ride_approve, name="approve"),
    path("<rideref:reference>/reject/", lists.ride_reject, name="reject"),
]
