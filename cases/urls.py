"""The case pages' URLs (mounted at /cases/); a case is named by its code."""

from django.urls import path, register_converter

from cases import views


class CaseCodeConverter:
    """JKT-2026-000123; lower case is accepted and looked up in upper case."""

    regex = r"[A-Za-z]{3}-[0-9]{4}-[0-9]{6,9}"

    def to_python(self, value: str) -> str:
        return value.upper()

    def to_url(self, value) -> str:
        return str(value)


register_converter(CaseCodeConverter, "casecode")

app_name = "cases"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/", views.case_create, name="create"),
    path("places/", views.place_list, name="places"),
    path("<casecode:code>/", views.case_detail, name="detail"),
    path("<casecode:code>/survivor/", views.case_survivor, name="survivor"),
    path("<casecode:code>/access-log/", views.case_access_log, name="access_log"),
    path("<casecode:code>/edit/", views.case_edit, name="edit"),
    path("<casecode:code>/consents/", views.consent_record, name="consent_record"),
    path(
        "<casecode:code>/consents/<int:pk>/withdraw/",
        views.consent_withdraw,
        name="consent_withdraw",
    ),
    path("<casecode:code>/addresses/new/", views.address_add, name="address_add"),
    path("<casecode:code>/assign/", views.case_assign, name="assign"),
    path("<casecode:code>/assign/<int:user_id>/remove/", views.case_unassign, name="unassign"),
]
