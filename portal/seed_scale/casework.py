"""The seeded cases: one survivor each, with a caseworker assigned, in the units rides
come from; names, phones, birth dates and guardians are real ciphertexts drawn from a
pool of distinct plaintexts (portal.seed_scale.copying.CipherPool)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.db import connection

from cases.models import AgeGroup, Case, Stage, Survivor, ViolenceType
from cases.services import CODE_PREFIX, CODE_SEQUENCE
from portal.seed_scale.copying import CipherPool, Progress, Table
from portal.seed_scale.people import People

FIRST_NAMES = "Sari Dewi Rina Ayu Putri Indah Wulan Fitri Nur Siti Lestari Maya Intan Ratna".split()
LAST_NAMES = "Wijaya Saputra Hasibuan Siregar Nasution Pratama Kusuma Hidayat Santoso Lubis".split()
POOL_SIZE = 200


@dataclass
class SeededCase:
    id: int
    unit_id: int
    caseworker_id: int


def _pools(rng: random.Random) -> dict[str, CipherPool]:
    def field(name):
        return Survivor._meta.get_field(name)

    names = [f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}" for _ in range(POOL_SIZE)]
    phones = [f"+62812{rng.randrange(10**7, 10**8)}" for _ in range(POOL_SIZE)]
    births = [
        dt.date(1970, 1, 1) + dt.timedelta(days=rng.randrange(0, 19000)) for _ in range(POOL_SIZE)
    ]
    return {
        "name": CipherPool(field("name"), names, rng),
        "phone": CipherPool(field("phone"), phones, rng),
        "birth_date": CipherPool(field("birth_date"), births, rng),
        "guardian_name": CipherPool(field("guardian_name"), names, rng),
        "guardian_phone": CipherPool(field("guardian_phone"), phones, rng),
        "guardian_relation": CipherPool(field("guardian_relation"), ["mother", "grandparent"], rng),
    }


def cases_create(
    *, count: int, people: People, start: dt.datetime, end: dt.datetime, rng: random.Random,
    progress: Progress,
) -> list[SeededCase]:  # fmt: skip
    """`count` cases opened between start and end, each unit's share as its rides'."""
    unit_ids = list(people.weights)
    weights = [people.weights[u] for u in unit_ids]
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval(%s, nextval(%s) + %s)", [CODE_SEQUENCE, CODE_SEQUENCE, count])
        first_number = cursor.fetchone()[0] - count + 1
    span = (end - start).total_seconds()
    cases_table = Table(Case, progress)
    seeded: list[SeededCase] = []
    violence = ViolenceType.values
    stages = [Stage.INTAKE, Stage.ACCOMPANIMENT, Stage.RECOVERY, Stage.CLOSED]

    def case_rows():
        chosen = rng.choices(unit_ids, weights=weights, k=count)
        for i in range(count):
            opened = start + dt.timedelta(seconds=span * ((i + 0.5) / count) ** 0.5)
            unit_id = chosen[i]
            caseworker = rng.choice(people.caseworkers[unit_id])
            case_id = cases_table.next_id()
            seeded.append(SeededCase(case_id, unit_id, caseworker))
            yield {
                "id": case_id,
                "code": f"{CODE_PREFIX}-{opened.year}-{first_number + i:06d}",
                "unit_id": unit_id,
                "stage": stages[0 if i > count - 50 else rng.choice((1, 1, 2, 3, 3, 3))],
                "violence_types": rng.sample(violence, rng.choice((1, 1, 2))),
                "created_by_id": caseworker,
                "created_at": opened,
                "updated_at": opened,
            }

    cases_table.write(case_rows(), label="cases", total=count)
    pools = _pools(rng)
    ages = AgeGroup.values
    children = {AgeGroup.UNDER_6, AgeGroup.FROM_6, AgeGroup.FROM_13}

    def survivor_rows():
        for case in seeded:
            age = rng.choice(ages)
            child = age in children
            yield {
                "case_id": case.id,
                "name": pools["name"].pick(),
                "phone": pools["phone"].pick(),
                "birth_date": pools["birth_date"].pick(),
                "alias": rng.choice(("Bunga", "Mawar", "Melati", "Anggrek", "Kenanga")),
                "age_group": age,
                "guardian_name": pools["guardian_name"].pick() if child else "",
                "guardian_phone": pools["guardian_phone"].pick() if child else "",
                "guardian_relation": pools["guardian_relation"].pick() if child else "",
            }

    Table(Survivor, progress).write(survivor_rows(), label="survivors", total=count)
    assignment = Case.assigned_caseworkers.through
    Table(assignment, progress).write(
        ({"case_id": c.id, "user_id": c.caseworker_id} for c in seeded),
        label="assignments",
        total=count,
    )
    return seeded
