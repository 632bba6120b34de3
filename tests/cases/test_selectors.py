import pytest
from django.http import Http404

from cases.models import Consent
from cases.selectors import (
    case_can_book,
    case_get_for_user,
    cases_visible_to,
    consent_allows_sharing_phone,
    consent_for_transport,
)
from cases.services import case_update, consent_record, consent_withdraw

pytestmark = pytest.mark.django_db


def test_each_role_sees_only_what_it_needs(
    case,
    caseworker,
    supervisor,
    caseworker_other_unit,
    supervisor_other_unit,
    admin_user,
    make_user,
    unit,
):
    colleague = make_user(unit=unit, username="colleague")  # same unit, not assigned
    assert list(cases_visible_to(caseworker)) == [case]
    assert list(cases_visible_to(supervisor)) == [case]
    assert not cases_visible_to(colleague).exists()
    assert not cases_visible_to(caseworker_other_unit).exists()
    assert not cases_visible_to(supervisor_other_unit).exists()
    assert not cases_visible_to(admin_user).exists()


def test_case_get_for_user_hides_existence(case, caseworker, caseworker_other_unit, admin_user):
    assert case_get_for_user(user=caseworker, code=case.code) == case
    assert case_get_for_user(user=caseworker, code=case.code.lower()) == case
    for user, code in [
        (caseworker_other_unit, case.code),
        (admin_user, case.code),
        (caseworker, "JKT-2020-999999"),
    ]:
        with pytest.raises(Http404):
            case_get_for_user(user=user, code=code)


def test_who_can_book(
    case,
    caseworker,
    supervisor,
    caseworker_other_unit,
    supervisor_other_unit,
    admin_user,
    make_user,
    unit,
):
    assert case_can_book(user=caseworker, case=case)
    assert case_can_book(user=supervisor, case=case)
    assert not case_can_book(user=make_user(unit=unit, username="colleague"), case=case)
    assert not case_can_book(user=caseworker_other_unit, case=case)
    assert not case_can_book(user=supervisor_other_unit, case=case)
    assert not case_can_book(user=admin_user, case=case)
    case_update(user=caseworker, case=case, stage="closed")
    assert not case_can_book(user=caseworker, case=case)
    assert not case_can_book(user=supervisor, case=case)


def test_transport_consent_and_phone_sharing(case, caseworker):
    assert consent_for_transport(case) is None
    assert not consent_allows_sharing_phone(case)
    first = consent_record(case=case, user=caseworker, given_by="survivor", scopes=["transport"])
    assert consent_for_transport(case) == first
    assert not consent_allows_sharing_phone(case)
    both = consent_record(
        case=case, user=caseworker, given_by="survivor", scopes=["share_phone", "transport"]
    )
    assert both.scopes == ["transport", "share_phone"]
    assert consent_for_transport(case) == both
    assert consent_allows_sharing_phone(case)
    consent_withdraw(consent=both, user=caseworker)
    assert consent_for_transport(case) == first
    assert not consent_allows_sharing_phone(case)
    consent_withdraw(consent=first, user=caseworker)
    assert consent_for_transport(case) is None
    assert Consent.objects.filter(case=case).count() == 2  # withdrawn, not deleted
