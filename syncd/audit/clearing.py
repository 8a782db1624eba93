"""The clearing accounts as QBO holds them: every posting dated in the period, and every entry syncd
wrote for the period's Stripe movements whatever its date, each mapped to exactly one Stripe balance
transaction and back. An entry nobody expected is as visible as one that is missing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.audit.report import AuditReport
from syncd.context import Context
from syncd.domain import BalanceTxn, QboPosting
from syncd.stages.accounts import books_accounts
from syncd.stages.books.movements import EntryLink
from syncd.stages.books.payouts import NO_ENTRY
from syncd.store.books_accounts import clearing_currencies
from syncd.store.models import MoneyMovement, PaymentRow

# syncd dates an entry on its Stripe transaction's UTC day (the company's day may differ by one), and
# a payout's Transfer on the payout's arrival date, days after Stripe made it.
_SLACK = timedelta(days=2)
_PAYOUT_SLACK = timedelta(days=21)
_CENT = Decimal("0.01")
# How far around the period syncd's own movements are looked up, to recognise its entries dated in
# the period for Stripe movements of a neighbouring one (a payout made on the 31st lands on the 2nd).
_NEIGHBOURS = timedelta(days=62)
# Roles that change an entry syncd wrote earlier: its date is still that of the movement that made it.
_CHANGES = ("reopen", "restore", "void")


@dataclass(frozen=True, slots=True)
class Source:
    """The Stripe balance transaction an entry books."""

    txn_id: str
    type: str
    source_id: str | None
    created: datetime

    def describe(self) -> str:
        return f"Stripe {self.type} {self.source_id or self.txn_id} of {self.created.date().isoformat()}"


@dataclass(slots=True)
class Expected:
    """One QBO entry syncd wrote for the period, summed over the roles that reference it."""

    entity: str
    qbo_id: str
    currency: str
    source: Source
    dated_by: Source | None = None  # the movement that made the entry, when it is of this period
    clearing: Decimal = Decimal(0)
    voided: bool = False
    holds: Decimal | None = None  # what a Payment holds now that refunds lowered it


@dataclass(frozen=True, slots=True)
class Ledger:
    """What syncd's own records say about the entries that may post to clearing."""

    expected: dict[tuple[str, str], Expected]
    elsewhere: dict[tuple[str, str], Source]  # syncd's entries for movements of other periods
    invoices: dict[str, frozenset[str]]  # QBO Payment id -> the invoices its Stripe payment paid


def source_of(txn: BalanceTxn) -> Source:
    return Source(txn.id, txn.type, txn.source_id, txn.created)


def build_ledger(
    session: Session,
    realm: str,
    begin: datetime,
    until: datetime,
    matched: list[tuple[BalanceTxn, list[EntryLink]]],
    reduced: dict[str, Decimal],
) -> Ledger:
    expected: dict[tuple[str, str], Expected] = {}
    for txn, entries in matched:
        for e in entries:
            if e.entity == NO_ENTRY:
                continue
            key = (e.entity, e.qbo_id)
            exp = expected.get(key)
            if exp is None:
                exp = expected[key] = Expected(e.entity, e.qbo_id, txn.currency.upper(), source_of(txn))
            if e.role not in _CHANGES and exp.dated_by is None:
                exp.dated_by = source_of(txn)
            exp.clearing += e.clearing
            exp.voided = exp.voided or e.role == "void"
    for (entity, qbo_id), exp in expected.items():
        if entity == "Payment" and qbo_id in reduced and not exp.voided:
            exp.holds = reduced[qbo_id]
    period_ids = {txn.id for txn, _ in matched}
    elsewhere: dict[tuple[str, str], Source] = {}
    for row in session.scalars(
        select(MoneyMovement).where(
            MoneyMovement.company_id == realm,
            MoneyMovement.created >= begin - _NEIGHBOURS,
            MoneyMovement.created < until + _NEIGHBOURS,
        )
    ):
        if row.id in period_ids:
            continue
        for role, value in (row.qbo_entries or {}).items():
            if role in _CHANGES:
                continue
            entity, qbo_id, _ = str(value).split(":", 2)
            elsewhere.setdefault((entity, qbo_id), Source(row.id, row.type, row.source_id, row.created))
    payment_ids = [qbo_id for entity, qbo_id in expected if entity == "Payment"]
    invoices = {
        str(p.qbo_payment_id): frozenset(p.invoice_ids or ())
        for p in session.scalars(
            select(PaymentRow).where(
                PaymentRow.company_id == realm, PaymentRow.qbo_payment_id.in_(payment_ids)
            )
        )
    }
    return Ledger(expected, elsewhere, invoices)


def clearing_accounts(ctx: Context, realm: str, currencies: Iterable[str]) -> dict[str, str]:
    """Clearing account Id -> currency, for every currency syncd set up books in (and those given)."""
    with ctx.db.transaction() as session:
        out = clearing_currencies(session, realm)
    for currency in currencies:
        if currency.upper() not in out.values():
            out[books_accounts(ctx, realm, currency).clearing.qbo_id] = currency.upper()
    return out


def in_clearing_currency(p: QboPosting, currency: str) -> Decimal:
    """What the posting moves in the clearing account's currency: an entry in the customer's
    currency that Stripe settled in another converts at its exchange rate, to the cent."""
    if p.currency and p.currency.upper() != currency.upper() and p.exchange_rate is not None:
        return (p.amount * p.exchange_rate).quantize(_CENT)
    return p.amount


def _dated_right(p: QboPosting, source: Source) -> bool:
    if p.txn_date is None:
        return True
    day = source.created.date()
    latest = _PAYOUT_SLACK if source.type == "payout" else _SLACK
    return day - _SLACK <= p.txn_date <= day + latest


def _what(p: QboPosting, amount: Decimal | None = None) -> str:
    shown = abs(amount if amount is not None else p.amount)
    dated = p.txn_date.isoformat() if p.txn_date else "undated"
    return f"QBO {p.entity} {p.qbo_id} of {shown} dated {dated}"


def check_clearing(
    ctx: Context,
    report: AuditReport,
    realm: str,
    start: date,
    end: date,
    ledger: Ledger,
) -> None:
    """Read the clearing accounts and compare, adding QBO's side to the per-currency totals."""
    qbo = ctx.qbo(realm)
    accounts = clearing_accounts(ctx, realm, {e.currency for e in ledger.expected.values()})
    known: dict[str, list[str]] = {}
    for entity, qbo_id in ledger.expected:
        known.setdefault(entity, []).append(qbo_id)
    before = qbo.counts()
    found = qbo.clearing_postings(sorted(accounts), start, end, known)
    after = qbo.counts()
    report.qbo_requests = (after.reads + after.batches) - (before.reads + before.batches)
    by_entry: dict[tuple[str, str], list[QboPosting]] = {}
    for p in found:
        by_entry.setdefault((p.entity, p.qbo_id), []).append(p)
    for key, exp in sorted(ledger.expected.items()):
        _check_expected(report, exp, by_entry.get(key, []), accounts, ledger, start, end)
    originals = [p for key, ps in by_entry.items() if key in ledger.expected for p in ps]
    for key, ps in sorted(by_entry.items()):
        if key in ledger.expected:
            continue
        for p in ps:
            if p.account_id in accounts:
                _check_unexpected(report, p, accounts[p.account_id], ledger, originals, start, end)


def _check_expected(
    report: AuditReport,
    exp: Expected,
    postings: list[QboPosting],
    accounts: dict[str, str],
    ledger: Ledger,
    start: date,
    end: date,
) -> None:
    totals = report.currency(exp.currency)
    ref = f"{exp.entity} {exp.qbo_id}"
    restore = "restore the entry in QuickBooks to what Stripe shows (or void it and let syncd re-enter it)"
    if not postings:
        report.differ(
            exp.currency,
            exp.source.txn_id,
            f"{exp.source.describe()} has no QBO entry: the QBO {exp.entity} {exp.qbo_id} syncd wrote for it "
            "no longer exists (deleted in QuickBooks?)",
            f"enter it again in QuickBooks against the clearing account ({exp.clearing} {exp.currency})",
        )
        return
    mine = [p for p in postings if accounts.get(p.account_id or "") == exp.currency]
    if not mine:
        p = postings[0]
        report.differ(
            exp.currency,
            ref,
            f"the {_what(p)} moves account {p.account_id}, not the clearing account",
            "move it back to the Stripe clearing account in QuickBooks",
        )
        return
    got = sum((in_clearing_currency(p, exp.currency) for p in mine), Decimal(0))
    p = mine[0]
    if p.voided and not exp.voided and exp.entity == "Payment":
        # Voided by a later ACH return: QBO zeroes it on its own date, Stripe shows the return on
        # the later one. Matched here; the return's period carries the void.
        report.notes.append(
            f"QBO Payment {exp.qbo_id} ({exp.clearing} {exp.currency}) was voided by a later bank return; "
            "QuickBooks shows this period's clearing lower by that amount"
        )
        totals.qbo_clearing += exp.clearing
        return
    want = Decimal(0) if exp.voided else exp.holds if exp.holds is not None else exp.clearing
    if got != want:
        problem = (
            f"the QBO {exp.entity} should be voided but shows {abs(got)}"
            if exp.voided
            else f"the QBO {exp.entity} shows {abs(got)}, Stripe moved {abs(want)} (edited in QuickBooks?)"
        )
        report.differ(exp.currency, ref, f"{problem}; {_what(p, got)}", restore)
        totals.qbo_clearing += got if exp.holds is None else exp.clearing + got - want
        return
    if exp.dated_by is not None and not _dated_right(p, exp.dated_by):
        report.differ(
            exp.currency,
            ref,
            f"the {_what(p, got)} books {exp.dated_by.describe()} (re-dated in QuickBooks?)",
            f"set its date back to {exp.dated_by.created.date().isoformat()}",
        )
        if p.txn_date is not None and not start <= p.txn_date <= end:
            return  # QuickBooks counts it in another period
    paid = ledger.invoices.get(exp.qbo_id) if exp.entity == "Payment" else None
    if paid is not None and not set(p.invoice_ids) <= paid:
        others = ", ".join(sorted(set(p.invoice_ids) - paid))
        report.differ(
            exp.currency,
            ref,
            f"the {_what(p, got)} is applied to invoice(s) {others}, not only to what "
            f"{exp.source.describe()} paid ({', '.join(sorted(paid))}) (re-applied in QuickBooks?)",
            "apply the Payment back to the invoice(s) the customer paid",
        )
    totals.qbo_clearing += exp.clearing


def _check_unexpected(
    report: AuditReport,
    p: QboPosting,
    currency: str,
    ledger: Ledger,
    originals: list[QboPosting],
    start: date,
    end: date,
) -> None:
    source = ledger.elsewhere.get((p.entity, p.qbo_id))
    got = in_clearing_currency(p, currency)
    if source is not None:
        # syncd wrote it for a Stripe movement of another period: that period's audit counts it.
        if not _dated_right(p, source):
            report.differ(
                currency,
                f"{p.entity} {p.qbo_id}",
                f"the {_what(p, got)} books {source.describe()} (re-dated in QuickBooks?)",
                f"set its date back to {source.created.date().isoformat()}",
            )
        return
    if got == 0 or p.voided or not start <= (p.txn_date or start) <= end:
        return
    report.currency(currency).qbo_clearing += got
    copy = next(
        (o for o in originals if (o.entity, o.amount, o.memo) == (p.entity, p.amount, p.memo) and o.memo),
        None,
    )
    why = (
        f"a copy of QBO {copy.entity} {copy.qbo_id} (same amount and memo)"
        if copy is not None
        else "no Stripe balance transaction accounts for it"
    )
    direction = "into" if got > 0 else "out of"
    report.differ(
        currency,
        f"{p.entity} {p.qbo_id}",
        f"the {_what(p, got)} moves {abs(got)} {currency} {direction} the Stripe clearing account: {why}",
        "delete or void it in QuickBooks if it is a mistake; money Stripe never moved does not belong in "
        "the clearing account",
    )
