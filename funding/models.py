"""The fund's rows: who gives (Funder), what was agreed (Agreement), when the money comes
(Tranche), and the ledger (LedgerEntry) that every rupiah moves through.

The ledger is append-only: PostgreSQL refuses UPDATE, DELETE and TRUNCATE on it
(migration 0002). A mistake is corrected by a new row: an adjustment that a second
admin confirms (Adjustment). Amounts are whole rupiah.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class Funder(models.Model):
    name = models.CharField(_("name"), max_length=160, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Agreement(models.Model):
    funder = models.ForeignKey(Funder, on_delete=models.PROTECT, related_name="agreements")
    title = models.CharField(_("title"), max_length=160)
    amount = models.BigIntegerField(_("amount (Rp)"))
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    purpose = models.TextField(_("purpose"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="agreement_amount_positive"),
            models.CheckConstraint(
                condition=Q(ends_on__gt=F("starts_on")), name="agreement_ends_after_start"
            ),
        ]

    def __str__(self):
        return self.title


class Tranche(models.Model):
    """A planned payment of the agreement; received when an admin confirms the money came."""

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="tranches")
    planned_on = models.DateField(_("planned date"))
    planned_amount = models.BigIntegerField(_("planned amount (Rp)"))
    received_on = models.DateField(_("received on"), null=True, blank=True)
    received_amount = models.BigIntegerField(_("received amount (Rp)"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["planned_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_amount__gt=0), name="tranche_planned_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(received_amount__isnull=True) | Q(received_amount__gt=0),
                name="tranche_received_amount_positive",
            ),
        ]

    def __str__(self):
        return f"{self.agreement} · {self.planned_on.isoformat()}"


class Adjustment(models.Model):
    """A correction of the ledger: proposed by one admin, written once another confirms."""

    amount = models.BigIntegerField(_("amount (Rp)"))  # + adds to the fund, − takes from it
    reason = models.TextField(_("reason"))
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(auto_now_add=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-proposed_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="adjustment_not_zero"),
            models.CheckConstraint(
                condition=Q(confirmed_by__isnull=True) | ~Q(confirmed_by=F("proposed_by")),
                name="adjustment_confirmed_by_another_admin",
            ),
        ]

    def __str__(self):
        return f"{self.amount:+}"


class EntryKind(models.TextChoices):
    TRANCHE = "tranche", _("Tranche received")
    HOLD = "hold", _("Held for a ride")
    RELEASE = "release", _("Hold released")
    CHARGE = "charge", _("Fare charged")
    FEE = "fee", _("Cancellation fee charged")
    ADJUSTMENT = "adjustment", _("Adjustment")


class LedgerEntry(models.Model):
    """One movement of money. `amount` is positive, except an adjustment's, which carries
    its sign; what each kind does to the balance is funding/ledger.py's EFFECTS."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    kind = models.CharField(max_length=12, choices=EntryKind.choices)
    amount = models.BigIntegerField()
    tranche = models.ForeignKey(Tranche, on_delete=models.PROTECT, null=True, blank=True)
    adjustment = models.OneToOneField(
        Adjustment, on_delete=models.PROTECT, null=True, blank=True, related_name="entry"
    )
    ride = models.ForeignKey(
        "rides.Ride", on_delete=models.PROTECT, null=True, blank=True, related_name="ledger"
    )
    unit = models.ForeignKey(
        "accounts.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The month a ride's money counts against its unit's budget: the month of its first
    # hold, carried by every later row of the ride (its release, charge, fee).
    budget_month = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["ride", "kind"], name="ledger_ride_kind"),
            models.Index(fields=["unit", "budget_month"], name="ledger_unit_month"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="adjustment", adjustment__isnull=False, amount__lt=0)
                | Q(kind="adjustment", adjustment__isnull=False, amount__gt=0)
                | (~Q(kind="adjustment") & Q(amount__gt=0)),
                name="ledger_amount_sign",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["hold", "release", "charge", "fee"]) | Q(ride__isnull=False),
                name="ledger_ride_rows_name_the_ride",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["hold", "release", "charge", "fee"])
                | Q(budget_month__isnull=False),
                name="ledger_ride_rows_have_a_budget_month",
            ),
            models.CheckConstraint(
                condition=~Q(kind="tranche") | Q(tranche__isnull=False),
                name="ledger_tranche_rows_name_the_tranche",
            ),
            # A ride is charged its fare once, and a cancellation fee at most once.
            models.UniqueConstraint(
                fields=["ride", "kind"],
                condition=Q(kind__in=["charge", "fee"]),
                name="ledger_one_charge_and_fee_per_ride",
            ),
            models.UniqueConstraint(
                fields=["tranche"], condition=Q(kind="tranche"), name="ledger_tranche_once"
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.amount}"


class TotalCut(models.TextChoices):
    MONTH = "month", "month"
    UNIT = "unit", "unit"
    PURPOSE = "purpose", "purpose"


class LedgerTotal(models.Model):
    """The ledger summed, kept by the database (migration 0003): every insert into the
    ledger also inserts its sums, cut three ways, into this table in the same transaction;
    funding.services.ledger_totals_compact folds the rows of each key into one (beat, every
    few minutes). So the sum of a key's rows is the ledger's sum for it, always, and the
    funding page and every hold read a few thousand rows instead of the whole ledger.

    A row is one cut: by the Jakarta month of the entry (`month` set), by unit (`unit`,
    empty for rows of no unit), or by the ride's purpose (`purpose`, "" for rows of no
    ride); with each, the kind, the amount summed and the number of entries. Derived, not
    a record: it may be rebuilt from the ledger at any time."""

    cut = models.CharField(max_length=8, choices=TotalCut.choices)
    kind = models.CharField(max_length=12, choices=EntryKind.choices)
    month = models.DateField(null=True)
    unit = models.ForeignKey(
        "accounts.Unit",
        on_delete=models.DO_NOTHING,
        null=True,
        db_constraint=False,
        related_name="+",
    )
    purpose = models.CharField(max_length=40, blank=True)
    total = models.BigIntegerField()
    entries = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["cut", "kind"], name="ledger_total_cut_kind")]

    def __str__(self):
        return f"{self.cut} {self.kind} {self.total}"
