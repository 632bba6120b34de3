import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone, translation

from accounts.models import Role
from cases.models import Case, Consent, SavedAddress, Survivor
from cases.services import (
    case_assign,
    case_create,
    case_update,
    consent_record,
    saved_address_add,
)
from tests.factories import ADULT_BIRTH_DATE, child_birth_date

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def _errors(exc_info) -> dict:
    return exc_info.value.message_dict


def test_case_create_stores_a_coded_case_in_the_users_unit(caseworker, unit):
    case = case_create(
        user=caseworker,
        survivor={
            "name": "  Siti   Aminah ",
            "phone": "0812-3456-7890",
            "birth_date": "1990-04-17",
            "address": {
                "label": "Rumah",
                "address": "Jl. Melati 3, Cawang",
                "latitude": "-6.2431",
                "longitude": "106.8712",
            },
        },
        violence_types=["sexual", "physical", "physical"],
        stage="accompaniment",
    )
    assert re.fullmatch(rf"JKT-{timezone.localdate().year}-\d{{6}}", case.code)
    assert case.unit == unit
    assert list(case.assigned_caseworkers.all()) == [caseworker]
    assert case.violence_types == ["physical", "sexual"]
    survivor = Survivor.objects.get(case=case)
    assert survivor.name == "Siti Aminah"
    assert survivor.phone == "+6281234567890"
    assert survivor.birth_date == dt.date(1990, 4, 17)
    assert re.fullmatch(r"Penumpang \d{4}", survivor.alias)
    assert "Siti" not in survivor.alias
    (address,) = survivor.addresses.all()
    assert (address.label, address.latitude, address.longitude) == (
        "Rumah",
        "-6.243100",
        "106.871200",
    )


def test_codes_are_unique_and_increasing(make_case, caseworker):
    codes = [make_case(caseworker).code for _ in range(3)]
    numbers = [int(code.rsplit("-", 1)[1]) for code in codes]
    assert numbers == sorted(numbers) and len(set(codes)) == 3


@pytest.mark.parametrize(
    ("survivor", "violence_types", "stage", "field", "message"),
    [
        ({"name": "  "}, ["physical"], "intake", "survivor.name", "Enter the survivor's name"),
        (
            {"name": "A", "phone": "12345"},
            ["physical"],
            "intake",
            "survivor.phone",
            "valid Indonesian mobile number",
        ),
        # a valid number, but not Indonesian
        (
            {"name": "A", "phone": "+44 20 7946 0958"},
            ["physical"],
            "intake",
            "survivor.phone",
            "valid Indonesian mobile number",
        ),
        (
            {"name": "A", "birth_date": timezone.localdate() + dt.timedelta(days=1)},
            ["physical"],
            "intake",
            "survivor.birth_date",
            "cannot be in the future",
        ),
        (
            {"name": "A", "birth_date": "1850-01-01"},
            ["physical"],
            "intake",
            "survivor.birth_date",
            "more than 120 years ago",
        ),
        (
            {"name": "A", "birth_date": "31/05/2012"},
            ["physical"],
            "intake",
            "survivor.birth_date",
            "YYYY-MM-DD",
        ),
        (
            {"name": "A"},
            ["physical", "witchcraft"],
            "intake",
            "violence_types",
            "Unknown kind of violence: witchcraft",
        ),
        ({"name": "A"}, [], "intake", "violence_types", "at least one"),
        ({"name": "A"}, ["physical"], "archived", "stage", "Choose a stage"),
        (
            {"name": "A", "address": {"address": "Jl. X", "latitude": "51.5", "longitude": "0.1"}},
            ["physical"],
            "intake",
            "survivor.address.latitude",
            "outside Indonesia",
        ),
        (
            {"name": "A", "address": {"address": "", "latitude": "-6.2", "longitude": "106.8"}},
            ["physical"],
            "intake",
            "survivor.address.address",
            "Enter the address",
        ),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_stored(
    caseworker, survivor, violence_types, stage, field, message
):
    with pytest.raises(ValidationError) as exc_info:
        case_create(user=caseworker, survivor=survivor, violence_types=violence_types, stage=stage)
    assert message in " ".join(_errors(exc_info)[field])
    assert not Case.objects.exists()
    assert not Survivor.objects.exists()
    assert not SavedAddress.objects.exists()


def test_every_problem_is_reported_at_once(caseworker):
    with pytest.raises(ValidationError) as exc_info:
        case_create(
            user=caseworker,
            survivor={"name": "", "phone": "999"},
            violence_types=["nope"],
            stage="x",
        )
    assert set(_errors(exc_info)) == {
        "survivor.name",
        "survivor.phone",
        "violence_types",
        "stage",
    }


def test_admins_cannot_open_cases(admin_user):
    with pytest.raises(ValidationError):
        case_create(user=admin_user, survivor={"name": "A"}, violence_types=["other"])
    assert not Case.objects.exists()


def test_update_by_others_is_refused(case, caseworker_other_unit, supervisor, caseworker):
    with pytest.raises(ValidationError):
        case_update(user=caseworker_other_unit, case=case, stage="closed")
    case_update(
        user=supervisor, case=case, stage="recovery", survivor={"phone": "+62 813 8093 5811"}
    )
    case.refresh_from_db()
    assert case.stage == "recovery"
    assert case.survivor.phone == "+6281380935811"
    with pytest.raises(ValidationError) as exc_info:
        case_update(user=caseworker, case=case, survivor={"phone": "0000"})
    assert "survivor.phone" in _errors(exc_info)
    assert Survivor.objects.get(case=case).phone == "+6281380935811"


def test_a_landline_is_refused_when_the_case_is_saved_not_later_at_booking(
    make_case, case, caseworker
):
    """The rider's phone is the survivor's unless an escort rides along, and the driver
    calls or texts it: a number booking would refuse is refused when the case is saved."""
    with pytest.raises(ValidationError) as exc_info:
        make_case(caseworker, phone="021 555 1234")
    assert "mobile" in _errors(exc_info)["survivor.phone"][0]
    with pytest.raises(ValidationError) as exc_info:
        case_update(user=caseworker, case=case, survivor={"phone": "+62 21 8093581"})
    assert "mobile" in _errors(exc_info)["survivor.phone"][0]
    assert Survivor.objects.get(case=case).phone == "+6281234567890"


def test_assignment_only_by_a_supervisor_within_the_unit(
    case, caseworker, supervisor, make_user, unit, caseworker_other_unit
):
    colleague = make_user(Role.CASEWORKER, unit, username="colleague")
    with pytest.raises(ValidationError):
        case_assign(user=caseworker, case=case, caseworker=colleague)
    with pytest.raises(ValidationError):
        case_assign(user=supervisor, case=case, caseworker=caseworker_other_unit)
    case_assign(user=supervisor, case=case, caseworker=colleague)
    assert set(case.assigned_caseworkers.all()) == {caseworker, colleague}


def test_saved_address_requires_both_coordinates(case, caseworker):
    with pytest.raises(ValidationError) as exc_info:
        saved_address_add(user=caseworker, case=case, address="Jl. Kenanga 1", latitude="-6.2")
    assert "longitude" in _errors(exc_info)
    added = saved_address_add(
        user=caseworker,
        case=case,
        label="Sekolah",
        address="Jl. Kenanga 1",
        latitude="-6.2",
        longitude="106.85",
    )
    assert added.label == "Sekolah"


# --- consent ------------------------------------------------------------------------


def test_an_adult_gives_consent_herself(case, caseworker):
    with pytest.raises(ValidationError) as exc_info:
        consent_record(case=case, user=caseworker, given_by="guardian", scopes=["transport"])
    assert "gives consent themselves" in _errors(exc_info)["given_by"][0]
    consent = consent_record(case=case, user=caseworker, given_by="survivor", scopes=["transport"])
    assert consent.recorded_by == caseworker and consent.given_at is not None


def test_a_childs_consent_comes_from_a_guardian(child_case, caseworker):
    assert child_case.survivor.is_child
    with pytest.raises(ValidationError) as exc_info:
        consent_record(case=child_case, user=caseworker, given_by="survivor", scopes=["transport"])
    assert "a guardian gives consent" in _errors(exc_info)["given_by"][0]
    consent_record(case=child_case, user=caseworker, given_by="guardian", scopes=["transport"])


def test_supervisor_override_needs_a_supervisor_of_the_unit_and_a_reason(
    child_case, caseworker, supervisor, supervisor_other_unit
):
    reason = "The father is the reported perpetrator and the legal guardian."
    with pytest.raises(ValidationError) as exc_info:
        consent_record(
            case=child_case,
            user=caseworker,
            given_by="supervisor_override",
            scopes=["transport"],
            override_reason=reason,
        )
    assert "Only a supervisor" in _errors(exc_info)["given_by"][0]
    with pytest.raises(ValidationError):  # cannot even see/write the case
        consent_record(
            case=child_case,
            user=supervisor_other_unit,
            given_by="supervisor_override",
            scopes=["transport"],
            override_reason=reason,
        )
    with pytest.raises(ValidationError) as exc_info:
        consent_record(
            case=child_case,
            user=supervisor,
            given_by="supervisor_override",
            scopes=["transport"],
            override_reason="risk",
        )
    assert "at least 20 characters" in _errors(exc_info)["override_reason"][0]
    consent = consent_record(
        case=child_case,
        user=supervisor,
        given_by="supervisor_override",
        scopes=["transport"],
        override_reason=reason,
    )
    assert consent.override_reason == reason
    assert Consent.objects.get().override_reason == reason
    # the reason tells who in the family is the danger: ciphertext at rest
    stored = _raw_row("cases_consent", ["override_reason"], consent.pk)["override_reason"]
    assert stored.startswith("case:") and "perpetrator" not in stored
    assert Consent.objects.count() == 1


def test_override_is_not_for_adults(case, supervisor):
    with pytest.raises(ValidationError) as exc_info:
        consent_record(
            case=case,
            user=supervisor,
            given_by="supervisor_override",
            scopes=["transport"],
            override_reason="x" * 40,
        )
    assert "only for a child" in _errors(exc_info)["given_by"][0]


def test_consent_input_errors(case, caseworker):
    with pytest.raises(ValidationError) as exc_info:
        consent_record(case=case, user=caseworker, given_by="neighbour", scopes=["flying"])
    assert set(_errors(exc_info)) == {"given_by", "scopes"}
    with pytest.raises(ValidationError) as exc_info:
        consent_record(case=case, user=caseworker, given_by="survivor", scopes=[])
    assert "scopes" in _errors(exc_info)
    with pytest.raises(ValidationError) as exc_info:
        consent_record(
            case=case,
            user=caseworker,
            given_by="survivor",
            scopes=["transport"],
            override_reason="why not",
        )
    assert "override_reason" in _errors(exc_info)
    case_update(user=caseworker, case=case, stage="closed")
    with pytest.raises(ValidationError, match="closed"):
        consent_record(case=case, user=caseworker, given_by="survivor", scopes=["transport"])
    assert not Consent.objects.exists()


# --- at rest ------------------------------------------------------------------------


def _raw_row(table: str, columns: list[str], pk: int) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE id = %s", [pk])
        return dict(zip(columns, cursor.fetchone(), strict=True))


def test_raw_sql_shows_only_ciphertext_for_every_protected_survivor_field(make_case, caseworker):
    case = make_case(
        caseworker,
        name="Tellt4le Namesake",
        phone="0813-9999-1234",
        birth_date=ADULT_BIRTH_DATE,
        address={
            "label": "Rumah Bibi",
            "address": "Gang Kelinci 77",
            "latitude": "-6.251234",
            "longitude": "106.861234",
        },
    )
    survivor = Survivor.objects.get(case=case)
    row = _raw_row("cases_survivor", ["name", "phone", "birth_date"], survivor.pk)
    plain = {"name": "Tellt4le", "phone": "9999", "birth_date": "1990"}
    for column, value in row.items():
        assert value.startswith(f"case:{case.pk}:"), column
        assert plain[column] not in value, column
        assert "81399991234" not in value
    address = survivor.addresses.get()
    row = _raw_row("cases_savedaddress", ["label", "address", "latitude", "longitude"], address.pk)
    plain = {"label": "Bibi", "address": "Kelinci", "latitude": "6.25", "longitude": "106.86"}
    for column, value in row.items():
        assert value.startswith(f"case:{case.pk}:"), column
        assert plain[column] not in value, column
    # The alias is deliberately plain: it is what the driver sees.
    assert _raw_row("cases_survivor", ["alias"], survivor.pk)["alias"].startswith("Penumpang ")


def test_child_flag_follows_the_birth_date(make_case, caseworker):
    assert make_case(caseworker, birth_date=child_birth_date(17)).survivor.is_child
    assert not make_case(caseworker, birth_date=child_birth_date(19)).survivor.is_child
    assert not make_case(caseworker, birth_date=None).survivor.is_child
