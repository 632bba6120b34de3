"""The country the seeded rides happen in: service units in Indonesia's 38 provinces (a
provincial centre and city or regency offices in each), their caseworkers and
supervisors, the administrators, the partner accounts and the fund that pays the rides.

Units, users and accounts are few (hundreds), so they are written through the ORM; the
fund's agreement and tranches through funding's services, so its ledger rows are the
ones a real tranche writes.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from accounts.models import Role, Unit, User
from funding.models import Agreement, Funder
from funding.services import tranche_plan, tranche_receive
from partners.models import PartnerAccount

# (code, province, city and regency offices): Indonesia's 38 provinces; the number of
# offices follows the province's size, Jakarta's six are the demo's.
PROVINCES = [
    ("ACEH", "Aceh", 9), ("SUMUT", "Sumatera Utara", 12), ("SUMBAR", "Sumatera Barat", 8),
    ("RIAU", "Riau", 7), ("JAMBI", "Jambi", 6), ("SUMSEL", "Sumatera Selatan", 9),
    ("BENGKULU", "Bengkulu", 5), ("LAMPUNG", "Lampung", 8), ("BABEL", "Bangka Belitung", 4),
    ("KEPRI", "Kepulauan Riau", 4), ("DKI", "DKI Jakarta", 6), ("JABAR", "Jawa Barat", 16),
    ("JATENG", "Jawa Tengah", 14), ("DIY", "DI Yogyakarta", 5), ("JATIM", "Jawa Timur", 16),
    ("BANTEN", "Banten", 8), ("BALI", "Bali", 6), ("NTB", "Nusa Tenggara Barat", 6),
    ("NTT", "Nusa Tenggara Timur", 8), ("KALBAR", "Kalimantan Barat", 7),
    ("KALTENG", "Kalimantan Tengah", 6), ("KALSEL", "Kalimantan Selatan", 6),
    ("KALTIM", "Kalimantan Timur", 6), ("KALTARA", "Kalimantan Utara", 3),
    ("SULUT", "Sulawesi Utara", 6), ("SULTENG", "Sulawesi Tengah", 6),
    ("SULSEL", "Sulawesi Selatan", 10), ("SULTRA", "Sulawesi Tenggara", 6),
    ("GORONTALO", "Gorontalo", 4), ("SULBAR", "Sulawesi Barat", 4), ("MALUKU", "Maluku", 5),
    ("MALUT", "Maluku Utara", 4), ("PAPUA", "Papua", 5), ("PAPBAR", "Papua Barat", 4),
    ("PAPSEL", "Papua Selatan", 3), ("PAPTENG", "Papua Tengah", 4),
    ("PAPPEG", "Papua Pegunungan", 3), ("PAPBD", "Papua Barat Daya", 3),
]  # fmt: skip
CASEWORKERS_PER_OFFICE = 4
# The users given the command's password: a caseworker and a supervisor of the unit with
# the most rides, a supervisor of Jakarta's provincial centre (who oversees every unit)
# and an admin.
KNOWN_USERS = {
    "bench_caseworker": Role.CASEWORKER,
    "bench_supervisor": Role.SUPERVISOR,
    "bench_centre": Role.SUPERVISOR,
    "bench_admin": Role.ADMIN,
}


@dataclass
class People:
    units: list[Unit]
    busiest: Unit
    # unit id → its caseworkers' ids, and its supervisors' ids
    caseworkers: dict[int, list[int]] = field(default_factory=dict)
    supervisors: dict[int, list[int]] = field(default_factory=dict)
    admins: list[int] = field(default_factory=list)
    accounts: list[int] = field(default_factory=list)
    known: dict[str, User] = field(default_factory=dict)
    usernames: dict[int, str] = field(default_factory=dict)
    # unit id → share of the country's rides (weights, summing to 1)
    weights: dict[int, float] = field(default_factory=dict)


def _unit_rows() -> list[Unit]:
    units = []
    for code, province, offices in PROVINCES:
        units.append(
            Unit(
                code=f"{code}-PUSAT"[:20],
                name=f"UPTD PPA Provinsi {province}",
                kind=Unit.Kind.PROVINCIAL_CENTRE,
            )
        )
        for number in range(1, offices + 1):
            units.append(
                Unit(
                    code=f"{code}-{number:02d}",
                    name=f"Pos Pelayanan PPA {province} {number}",
                    kind=Unit.Kind.CITY_OFFICE,
                )
            )
    return units


def people_create(*, password: str, rng: random.Random) -> People:
    units = Unit.objects.bulk_create(_unit_rows())
    # Rides are uneven: a few big cities book most of them (a Zipf-like share per unit),
    # Jakarta's city offices first, then the offices of the provinces with the most
    # offices; a provincial centre books fewer rides than its province's offices.
    size = {code: offices for code, _, offices in PROVINCES}
    province = [unit.code.split("-")[0] for unit in units]
    order = sorted(
        range(len(units)),
        key=lambda i: (
            units[i].kind != Unit.Kind.CITY_OFFICE,
            province[i] != "DKI",
            -size[province[i]],
            rng.random(),
        ),
    )
    raw = {units[i].pk: 1.0 / (rank + 1) ** 0.8 for rank, i in enumerate(order)}
    total = sum(raw.values())
    weights = {unit_id: weight / total for unit_id, weight in raw.items()}
    busiest = max(units, key=lambda u: weights[u.pk])
    centre = next(u for u in units if u.code == "DKI-PUSAT")
    unusable = make_password(None)
    users = []
    for unit in units:
        users.append(
            User(
                username=f"spv.{unit.code.lower()}",
                role=Role.SUPERVISOR,
                unit=unit,
                password=unusable,
                first_name="Supervisor",
                last_name=unit.code,
            )
        )
        for number in range(1, CASEWORKERS_PER_OFFICE + 1):
            users.append(
                User(
                    username=f"cw{number}.{unit.code.lower()}",
                    role=Role.CASEWORKER,
                    unit=unit,
                    password=unusable,
                    first_name=f"Pendamping {number}",
                    last_name=unit.code,
                )
            )
    users += [
        User(username=f"admin{n}.pusat", role=Role.ADMIN, password=unusable, is_staff=True)
        for n in range(1, 4)
    ]
    known_hash = make_password(password)
    for username, role in KNOWN_USERS.items():
        users.append(
            User(
                username=username,
                role=role,
                unit={"bench_admin": None, "bench_centre": centre}.get(username, busiest),
                password=known_hash,
                first_name=username.split("_")[1].title(),
                is_staff=role == Role.ADMIN,
            )
        )
    users = User.objects.bulk_create(users)
    people = People(units=units, busiest=busiest, weights=weights)
    for user in users:
        people.usernames[user.pk] = user.username
        if user.role == Role.ADMIN:
            people.admins.append(user.pk)
        elif user.role == Role.SUPERVISOR:
            people.supervisors.setdefault(user.unit_id, []).append(user.pk)
        else:
            people.caseworkers.setdefault(user.unit_id, []).append(user.pk)
        if user.username in KNOWN_USERS:
            people.known[user.username] = user
    people.accounts = [
        PartnerAccount.objects.create(
            name=name,
            base_url="http://127.0.0.1:8100",
            client_id=name.lower().replace(" ", "-"),
            client_secret="seeded-" + name.lower().replace(" ", "-"),
            webhook_secret="whsec_" + "S" * 32,
        ).pk
        for name in ("Mitra Antar Nusantara", "Mitra Antar Timur")
    ]
    return people


def fund_create(*, spent: int, first_day: dt.date, admin_id: int) -> int:
    """An agreement paid in yearly tranches from `first_day`'s year to this year that
    covers `spent` with a quarter to spare; answers how many tranches were received."""
    today = timezone.localdate()
    years = list(range(first_day.year, today.year + 1))
    each = max((spent * 5 // 4) // len(years) + 1, 1_000_000)
    funder = Funder.objects.create(name="Yayasan Perjalanan Aman Nusantara")
    agreement = Agreement.objects.create(
        funder=funder,
        title="Hibah perjalanan aman nasional",
        amount=each * (len(years) + 1),
        starts_on=dt.date(years[0], 1, 1),
        ends_on=dt.date(today.year + 1, 12, 31),
        purpose="Perjalanan aman bagi perempuan dan anak penyintas kekerasan di seluruh Indonesia.",
    )
    admin = User.objects.get(pk=admin_id)
    for year in years:
        tranche = tranche_plan(
            agreement=agreement, planned_on=dt.date(year, 1, 1), planned_amount=each
        )
        tranche_receive(tranche=tranche, amount=each, received_on=dt.date(year, 1, 1), user=admin)
    tranche_plan(agreement=agreement, planned_on=dt.date(today.year + 1, 1, 1), planned_amount=each)
    return len(years)
