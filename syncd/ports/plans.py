"""What the pages showing installment plans need: one plan with its schedule, as the customer's
account page and the staff console's customer page show it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class InstallmentItem:
    """One part of a plan: ``seq`` 0 is the down payment; ``status`` an InstallmentStatus value."""

    seq: int
    due_on: date
    amount: Decimal
    status: str


@dataclass(frozen=True, slots=True)
class PlanItem:
    """One plan: ``status`` a PlanStatus value and why (suspended: what changed in QBO);
    ``invoice_number`` comes from QBO."""

    plan_id: int
    invoice_id: str
    invoice_number: str
    currency: str
    balance: Decimal
    every: str
    status: str
    reason: str | None
    installments: tuple[InstallmentItem, ...]

    @property
    def paid(self) -> Decimal:
        return sum((i.amount for i in self.installments if i.status == "paid"), Decimal(0))

    @property
    def next_due(self) -> InstallmentItem | None:
        """The first part still owed."""
        return next((i for i in self.installments if i.status not in ("paid", "cancelled")), None)
