"""What an audit found: per-currency totals, one line per difference with what to do, as text or JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class Difference:
    """One thing that does not agree, with the Stripe/QBO reference and the bookkeeper's next step."""

    currency: str
    ref: str
    problem: str
    action: str

    def line(self) -> str:
        return f"DIFF {self.currency} {self.ref}: {self.problem} -> {self.action}"


@dataclass(slots=True)
class CurrencyTotals:
    """The period's movement of the Stripe balance and of the clearing account, in one currency."""

    currency: str
    stripe_net: Decimal = Decimal(0)
    qbo_clearing: Decimal = Decimal(0)
    in_transit: Decimal = Decimal(0)
    # Sub-cent remainders of three-decimal currencies QBO cannot hold yet (booked to the rounding
    # account by the payout that settles them): rounding, told apart from any edit.
    rounding: Decimal = Decimal(0)
    transactions: int = 0
    matched: int = 0

    @property
    def agrees(self) -> bool:
        # A payout on its way to the bank has left Stripe's balance; its Transfer is written when it
        # arrives, so until then it is the one known reconciling item.
        return self.stripe_net == self.qbo_clearing + self.in_transit + self.rounding


@dataclass(slots=True)
class AuditReport:
    company: str
    start: date
    end: date
    totals: dict[str, CurrencyTotals] = field(default_factory=dict)
    differences: list[Difference] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    qbo_requests: int | None = None  # requests that read the clearing accounts (None: not read)

    @property
    def clean(self) -> bool:
        return not self.differences and all(t.agrees for t in self.totals.values())

    def currency(self, code: str) -> CurrencyTotals:
        code = code.upper()
        if code not in self.totals:
            self.totals[code] = CurrencyTotals(code)
        return self.totals[code]

    def differ(self, currency: str, ref: str, problem: str, action: str) -> None:
        self.differences.append(Difference(currency.upper(), ref, problem, action))

    def to_text(self) -> str:
        out = [f"syncd audit: company {self.company}, {self.start.isoformat()} to {self.end.isoformat()}"]
        for code in sorted(self.totals):
            t = self.totals[code]
            state = "ok" if t.agrees else "DIFFERS"
            transit = f", payouts in transit {t.in_transit}" if t.in_transit else ""
            transit += f", sub-cent rounding not yet paid out {t.rounding}" if t.rounding else ""
            out.append(
                f"{code}: Stripe balance moved {t.stripe_net}, clearing account moved {t.qbo_clearing}"
                f"{transit} ({t.matched}/{t.transactions} balance transactions matched) {state}"
            )
        if not self.totals:
            out.append("no Stripe balance transactions in the period")
        if self.qbo_requests is not None:
            out.append(f"QuickBooks: the clearing accounts read in {self.qbo_requests} request(s)")
        out.extend(f"note: {n}" for n in self.notes)
        out.extend(d.line() for d in self.differences)
        out.append(
            "clean: the books agree with Stripe" if self.clean else f"{len(self.differences)} difference(s)"
        )
        return "\n".join(out)

    def to_json(self) -> dict[str, Any]:
        return {
            "company": self.company,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "clean": self.clean,
            "currencies": {
                code: {
                    "stripe_net": str(t.stripe_net),
                    "qbo_clearing": str(t.qbo_clearing),
                    "in_transit": str(t.in_transit),
                    "rounding": str(t.rounding),
                    "transactions": t.transactions,
                    "matched": t.matched,
                    "agrees": t.agrees,
                }
                for code, t in sorted(self.totals.items())
            },
            "differences": [
                {"currency": d.currency, "ref": d.ref, "problem": d.problem, "action": d.action}
                for d in self.differences
            ],
            "notes": list(self.notes),
            "qbo_requests": self.qbo_requests,
        }
