"""Cases and what they hold: the survivor's protected data (encrypted at rest), saved
addresses, consent, assignments, protected places and the append-only access log."""

import datetime as dt

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.crypto import EncryptedDateField, EncryptedTextField

ADULT_AGE = 18


class AgeGroup(models.TextChoices):
    """The national reporting's age groups (SIMFONI-PPA), of the survivor's age on the day
    the case was opened: coarse enough to store unencrypted, so reports count survivors
    by age without decrypting a birth date."""

    UNDER_6 = "0-5", _("0–5 years")
    FROM_6 = "6-12", _("6–12 years")
    FROM_13 = "13-17", _("13–17 years")
    FROM_18 = "18-24", _("18–24 years")
    FROM_25 = "25-44", _("25–44 years")
    FROM_45 = "45-59", _("45–59 years")
    FROM_60 = "60+", _("60 years and older")


# Each group's lowest age, oldest first.
AGE_GROUP_FLOORS = (
    (60, AgeGroup.FROM_60),
    (45, AgeGroup.FROM_45),
    (25, AgeGroup.FROM_25),
    (18, AgeGroup.FROM_18),
    (13, AgeGroup.FROM_13),
    (6, AgeGroup.FROM_6),
    (0, AgeGroup.UNDER_6),
)


def age_on(born: dt.date | None, day: dt.date) -> int | None:
    if born is None:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def age_group_of(born: dt.date | None, day: dt.date) -> str:
    """The age group of someone born on `born` on `day`; "" when the birth date is unknown."""
    age = age_on(born, day)
    if age is None:
        return ""
    return next((group for floor, group in AGE_GROUP_FLOORS if age >= floor), AgeGroup.UNDER_6)


def case_opened_on(case) -> dt.date:
    """The day (Jakarta) the case was opened; today for a case not saved yet."""
    if case is None or case.created_at is None:
        return timezone.localdate()
    return timezone.localtime(case.created_at).date()


class Stage(models.TextChoices):
    INTAKE = "intake", _("Intake")
    ACCOMPANIMENT = "accompaniment", _("Accompaniment")
    RECOVERY = "recovery", _("Recovery")
    CLOSED = "closed", _("Closed")


class ViolenceType(models.TextChoices):
    """The national reporting categories (SIMFONI-PPA)."""

    PHYSICAL = "physical", _("Physical")
    PSYCHOLOGICAL = "psychological", _("Psychological")
    SEXUAL = "sexual", _("Sexual")
    NEGLECT = "neglect", _("Neglect")
    TRAFFICKING = "trafficking", _("Trafficking")
    EXPLOITATION = "exploitation", _("Exploitation")
    OTHER = "other", _("Other")


class CaseQuerySet(models.QuerySet):
    def active(self):
        return self.exclude(stage=Stage.CLOSED)


class Case(models.Model):
    """A survivor's case, known everywhere by its opaque code."""

    code = models.CharField(_("case code"), max_length=20, unique=True)
    unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="cases")
    assigned_caseworkers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="assigned_cases", blank=True
    )
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices, default=Stage.INTAKE)
    violence_types = ArrayField(
        models.CharField(max_length=20, choices=ViolenceType.choices), default=list, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When the stage last became closed (retention counts from it), and when the case was
    # anonymised under retention (its data key destroyed).
    closed_at = models.DateTimeField(null=True, blank=True)
    anonymised_at = models.DateTimeField(null=True, blank=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["unit", "stage"])]

    def __str__(self):
        return self.code

    @property
    def is_active(self) -> bool:
        return self.stage != Stage.CLOSED

    def note_stage(self, before: str | None, now: dt.datetime) -> None:
        """Keeps `closed_at` with the stage: set when the case becomes closed, cleared
        when it is reopened."""
        if self.stage == Stage.CLOSED and before != Stage.CLOSED:
            self.closed_at = now
        elif self.stage != Stage.CLOSED:
            self.closed_at = None

    @property
    def violence_type_labels(self) -> list[str]:
        return [ViolenceType(value).label for value in self.violence_types]


class GuardianRelation(models.TextChoices):
    MOTHER = "mother", _("Mother")
    FATHER = "father", _("Father")
    LEGAL_GUARDIAN = "legal_guardian", _("Legal guardian")
    GRANDPARENT = "grandparent", _("Grandparent")
    SIBLING = "sibling", _("Older sibling")
    OTHER_RELATIVE = "other_relative", _("Other relative")
    OTHER = "other", _("Other")


class CaseKey(models.Model):
    """A case's own data key (portal/data_keys.py), wrapped under the master keys.

    Deleting the row is crypto-shredding: every value sealed with it, in every table,
    can never be read again."""

    case = models.OneToOneField(
        Case, on_delete=models.CASCADE, primary_key=True, related_name="data_key"
    )
    key = EncryptedTextField()  # the data key, encrypted under FIELD_ENCRYPTION_KEYS
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"data key of {self.case_id}"


class Survivor(models.Model):
    """The protected part of a case: every personal field is encrypted at rest."""

    case_key_owner = "case_id"

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="survivor")
    name = EncryptedTextField(_("name"))
    phone = EncryptedTextField(_("phone"), blank=True)
    birth_date = EncryptedDateField(_("birth date"), null=True, blank=True)
    # A child's guardian (may escort the child on a ride); who they are is personal too.
    guardian_name = EncryptedTextField(_("guardian's name"), blank=True, default="")
    guardian_phone = EncryptedTextField(_("guardian's phone"), blank=True, default="")
    guardian_relation = EncryptedTextField(_("guardian's relation"), blank=True, default="")
    # Not personal: what the partner's driver sees instead of a name (≤ 26 characters).
    alias = models.CharField(_("alias for the driver"), max_length=26)
    # Not personal on its own: the age group on the day the case was opened, kept from the
    # birth date whenever the survivor is saved (reports count by it; "" = not known).
    age_group = models.CharField(
        _("age group"), max_length=8, choices=AgeGroup.choices, blank=True, default=""
    )

    def __str__(self):
        return f"survivor of {self.case_id}"

    def save(self, *args, **kwargs):
        self.age_group = age_group_of(
            self.birth_date, case_opened_on(self.case if self.case_id else None)
        )
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "birth_date" in update_fields:
            kwargs["update_fields"] = {*update_fields, "age_group"}
        super().save(*args, **kwargs)

    def age_on(self, day: dt.date) -> int | None:
        return age_on(self.birth_date, day)

    @property
    def has_guardian(self) -> bool:
        return bool(self.guardian_name and self.guardian_phone)

    @property
    def guardian_relation_label(self) -> str:
        if self.guardian_relation in GuardianRelation.values:
            return GuardianRelation(self.guardian_relation).label
        return self.guardian_relation

    @property
    def is_child(self) -> bool:
        age = self.age_on(timezone.localdate())
        return age is not None and age < ADULT_AGE


class SavedAddress(models.Model):
    """An address of the survivor's (home, school, relative's), all of it encrypted."""

    case_key_owner = "survivor.case_id"

    survivor = models.ForeignKey(Survivor, on_delete=models.CASCADE, related_name="addresses")
    label = EncryptedTextField(_("label"))
    address = EncryptedTextField(_("address"))
    latitude = EncryptedTextField(_("latitude"), blank=True)
    longitude = EncryptedTextField(_("longitude"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"address #{self.pk}"


class ConsentScope(models.TextChoices):
    TRANSPORT = "transport", _("Transport")
    SHARE_PHONE = "share_phone", _("Give the phone number to the driver")


class Consent(models.Model):
    case_key_owner = "case_id"

    class GivenBy(models.TextChoices):
        SURVIVOR = "survivor", _("Survivor")
        GUARDIAN = "guardian", _("Guardian")
        SUPERVISOR_OVERRIDE = "supervisor_override", _("Supervisor override")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="consents")
    given_by = models.CharField(max_length=30, choices=GivenBy.choices)
    scopes = ArrayField(models.CharField(max_length=20, choices=ConsentScope.choices))
    given_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # A supervisor's override, when the guardian is the risk: the written reason is required.
    # Encrypted: it tells about the survivor's family and who is the danger.
    override_reason = EncryptedTextField(blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-given_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(given_by="supervisor_override") | ~models.Q(override_reason=""),
                name="override_has_reason",
            ),
            models.CheckConstraint(condition=~models.Q(scopes=[]), name="consent_has_a_scope"),
        ]
        indexes = [models.Index(fields=["case", "-given_at"])]

    def __str__(self):
        return f"consent {self.pk} for {self.case_id}"

    @property
    def scope_labels(self) -> list[str]:
        return [ConsentScope(value).label for value in self.scopes]


class PlaceKind(models.TextChoices):
    HOSPITAL = "hospital", _("Hospital (medical examination)")
    POLICE = "police", _("Police station")
    COURT = "court", _("Court")
    AGENCY_OFFICE = "agency_office", _("Agency office")
    COUNSELLING = "counselling", _("Counselling service")
    SAFE_HOUSE = "safe_house", _("Safe house")
    OTHER = "other", _("Other")


class Place(models.Model):
    """A common destination. A protected place (safe house) never reaches the partner:
    its neutral point is sent instead, and only the people its rule names see its address
    (cases/selectors.place_address_visible_to): its unit's supervisors and
    `address_readers`. Address and coordinates are encrypted (decimal degrees as text)."""

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=PlaceKind.choices)
    address = EncryptedTextField(_("address"))
    latitude = EncryptedTextField(_("latitude"))
    longitude = EncryptedTextField(_("longitude"))
    is_protected = models.BooleanField(_("protected place"), default=False)
    neutral_address = models.CharField(_("neutral drop-off point"), max_length=255, blank=True)
    neutral_latitude = EncryptedTextField(null=True, blank=True)
    neutral_longitude = EncryptedTextField(null=True, blank=True)
    unit = models.ForeignKey(
        "accounts.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="places"
    )
    # Named by an admin, beyond the unit's supervisors (a shelter coordinator, say).
    address_readers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="readable_places",
        verbose_name=_("may see the address"),
    )
    is_demo = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(is_protected=False)
                | models.Q(neutral_latitude__isnull=False, neutral_longitude__isnull=False),
                name="protected_place_has_neutral_point",
            ),
            # Demo entries are loaded by name; two active places of one name would confuse
            # whoever picks from the list.
            models.UniqueConstraint(
                fields=["name"],
                condition=models.Q(is_active=True),
                name="one_active_place_per_name",
            ),
        ]

    def __str__(self):
        return self.name


class AccessLog(models.Model):
    """Append-only: who looked at which protected fields of which case, when, from where."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="access_logs")
    fields = ArrayField(models.CharField(max_length=40))
    at = models.DateTimeField(default=timezone.now, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    channel = models.CharField(max_length=20, default="web")  # web, api
    view = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["case", "-at"])]

    def __str__(self):
        return f"{self.user_id} viewed {self.case_id} at {self.at:%Y-%m-%d %H:%M}"

    # What was shown, in the words of the page that showed it.
    FIELD_LABELS = {
        "name": _("name"),
        "phone": _("phone"),
        "birth_date": _("birth date"),
        "addresses": _("addresses"),
        "guardian": _("guardian"),
        "saved_addresses": _("saved addresses"),
        "ride.pickup": _("pickup address"),
        "ride.dropoff": _("drop-off address"),
        "ride.escort": _("escort"),
        "ride.rider_phone": _("phone the driver calls"),
    }

    @classmethod
    def labels_of(cls, fields) -> list[str]:
        """The fields' names for people, in alphabetical order of the words shown."""
        return sorted(str(cls.FIELD_LABELS.get(field, _("other details"))) for field in fields)

    @property
    def field_labels(self) -> list[str]:
        return self.labels_of(self.fields)
