"""Two SOP rules between people and units: the approver of a ride is never its booker,
and a ride uses only its unit's partner accounts (page, API and service alike)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from accounts.models import Role
from partners.selectors import default_partner_account_for, partner_accounts_for_unit
from rides.booking.services import ride_approve, ride_book, ride_reject
from rides.models import Ride, RideStatus
from rides.rules import FareQuote
from tests.booking.conftest import booking_args
from tests.booking.test_api import RIDES, api, body
from tests.conftest import logged_in_client
from tests.factories import PartnerAccountFactory, UnitDefaultPartnerFactory

pytestmark = [pytest.mark.django_db]

EXPENSIVE = FareQuote("car", 900_000, 600)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def own_booking(adult_case, supervisor, places):
    """The issue's case: a supervisor books a Rp900.000 ride, which waits for approval."""
    ride = ride_book(user=supervisor, quote=EXPENSIVE, **booking_args(adult_case, places))
    assert ride.status == RideStatus.AWAITING_APPROVAL
    return ride


@pytest.fixture
def second_supervisor(make_user, unit):
    return make_user(Role.SUPERVISOR, unit, username="supervisor1b")


def test_a_supervisor_cannot_approve_her_own_booking(own_booking, supervisor):
    with pytest.raises(ValidationError) as caught:
        ride_approve(ride_id=own_booking.pk, user=supervisor)
    assert "another supervisor" in caught.value.message_dict["ride"][0]
    own_booking.refresh_from_db()
    assert own_booking.status == RideStatus.AWAITING_APPROVAL
    assert own_booking.decided_by is None


def test_nor_reject_it_and_another_supervisor_of_the_unit_decides(
    own_booking, supervisor, second_supervisor
):
    with pytest.raises(ValidationError):
        ride_reject(ride_id=own_booking.pk, user=supervisor, reason="Too expensive.")
    ride = ride_approve(ride_id=own_booking.pk, user=second_supervisor)
    assert ride.status == RideStatus.REQUESTED and ride.decided_by == second_supervisor


def test_the_api_answers_400_with_the_field_message(own_booking, supervisor):
    answer = api(supervisor).post(f"{RIDES}{own_booking.reference}/approve/")
    assert answer.status_code == 400
    assert "another supervisor" in answer.json()["ride"][0]
    assert Ride.objects.get(pk=own_booking.pk).status == RideStatus.AWAITING_APPROVAL


def test_the_queue_offers_no_buttons_on_ones_own_bookings_and_says_why(
    own_booking, supervisor, second_supervisor, adult_case, caseworker, places
):
    theirs = ride_book(user=caseworker, quote=EXPENSIVE, **booking_args(adult_case, places))
    page = logged_in_client(supervisor).get(reverse("rides:approvals")).content.decode()
    own_url = reverse("rides:approve", kwargs={"reference": own_booking.reference})
    their_url = reverse("rides:approve", kwargs={"reference": theirs.reference})
    assert own_url not in page and their_url in page
    assert "You booked this ride" in page
    other_page = logged_in_client(second_supervisor).get(reverse("rides:approvals"))
    assert own_url in other_page.content.decode()


def test_the_approve_button_of_the_page_shows_the_refusal(own_booking, supervisor):
    client = logged_in_client(supervisor)
    url = reverse("rides:approve", kwargs={"reference": own_booking.reference})
    followed = client.post(url, follow=True)
    assert "another supervisor" in followed.content.decode()
    assert Ride.objects.get(pk=own_booking.pk).status == RideStatus.AWAITING_APPROVAL


# --- a unit's partner accounts ---------------------------------------------------------


@pytest.fixture
def other_units_account(other_unit):
    account = PartnerAccountFactory(name="Other unit's partner")
    UnitDefaultPartnerFactory(unit=other_unit, partner_account=account)
    return account


def test_another_units_partner_account_is_refused(
    adult_case, caseworker, places, other_units_account
):
    with pytest.raises(ValidationError) as caught:
        ride_book(
            user=caseworker,
            quote=EXPENSIVE,
            **booking_args(adult_case, places, partner_account_id=other_units_account.pk),
        )
    assert "not one of your unit's" in caught.value.message_dict["partner_account"][0]
    assert not Ride.objects.exists()


def test_the_api_refuses_it_with_the_field_message(
    adult_case, caseworker, places, other_units_account
):
    answer = api(caseworker).post(
        RIDES, body(adult_case, places, partner_account=other_units_account.pk), format="json"
    )
    assert answer.status_code == 400
    assert "not one of your unit's" in answer.json()["partner_account"][0]
    assert not Ride.objects.exists()


def test_an_account_that_names_the_unit_may_be_chosen(
    adult_case, caseworker, places, unit, partner_account_db, other_units_account
):
    other_units_account.units.add(unit)
    ride = ride_book(
        user=caseworker,
        quote=EXPENSIVE,
        **booking_args(adult_case, places, partner_account_id=other_units_account.pk),
    )
    assert ride.partner_account == other_units_account
    assert list(partner_accounts_for_unit(unit)) == [other_units_account, partner_account_db]


def test_without_a_default_only_the_units_own_account_is_taken(
    unit, other_unit, other_units_account
):
    # The only enabled account in the portal is another unit's: not this unit's default.
    assert default_partner_account_for(unit) is None
    own = PartnerAccountFactory(name="Own partner")
    own.units.add(unit)
    assert default_partner_account_for(unit) == own
    own.enabled = False
    own.save()
    assert list(partner_accounts_for_unit(unit)) == []


def test_the_booking_form_offers_only_the_units_accounts(
    adult_case, caseworker, unit, partner_account_db, other_units_account
):
    second = PartnerAccountFactory(name="Second partner of the unit")
    second.units.add(unit)
    page = logged_in_client(caseworker).get(reverse("rides:book") + f"?case={adult_case.code}")
    form = page.context["form"]
    offered = [value for value, _label in form.fields["partner_account"].choices if value]
    assert offered == [partner_account_db.pk, second.pk]
    assert "Other unit&#x27;s partner" not in page.content.decode()
