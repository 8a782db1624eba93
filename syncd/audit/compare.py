"""The audit itself: Stripe's balance transactions for a period against the entries syncd made in QBO,
both ways, and the clearing account's movement against the Stripe balance's, per currency."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.audit.report import AuditReport
from syncd.context import Context
from syncd.domain import BalanceTxn, PayoutStatus, QboEntry
from syncd.errors import SyncdError
from syncd.stages.accounts import books_accounts
from syncd.stages.books.movements import EntryLink, entries_of, payment_deposit, reductions_by_payment
from syncd.stages.books.payouts import NO_ENTRY
from syncd.store.models import Effect, MoneyMovement

# Roles whose entry moves money out of (negative) or into (positive) the clearing account itself;
# "transfer_back" leaves the bank, so its account is not clearing.
_FROM_BANK = ("transfer_back",)


@dataclass(frozen=True, slots=True)
class _Expected:
    """What one QBO entity should look like, summed over the roles that reference it."""

    entity: str
    qbo_id: str
    amount: Decimal
    voided: bool
    clearing: Decimal
    check_account: bool


def period(start: date, end: date) -> tuple[datetime, datetime]:
    """``start`` to ``end`` inclusive, as UTC instants [from, to)."""
    return datetime.combine(start, time(), UTC), datetime.combine(end + timedelta(days=1), time(), UTC)


def expected_effect(txn: BalanceTxn) -> str | None:
    """The effect key that books ``txn`` (see DESIGN §4 and syncd.stages.books)."""
    source = txn.source_id or ""
    if txn.type in ("charge", "payment"):
        return f"qbo:fee:{txn.id}"
    if txn.type in ("refund", "payment_refund"):
        return f"qbo:refund:{source}"
    if txn.type == "refund_failure":
        return f"qbo:refund_failed:{source}"
    if source.startswith("dp_") or txn.type in ("adjustment", "dispute"):
        return f"qbo:dispute:{source}:{txn.id}"
    if txn.type == "payout":
        return f"qbo:payout:{source}"
    if txn.type in ("payout_failure", "payout_cancel"):
        return f"qbo:payout_failed:{source}"
    return None


def run_audit(ctx: Context, realm: str, start: date, end: date, *, verify_qbo: bool = True) -> AuditReport:
    ctx.settings.company(realm)  # a ConfigError for an unknown company
    report = AuditReport(company=realm, start=start, end=end)
    begin, until = period(start, end)
    txns = list(ctx.stripe.balance_txns(created_from=begin, created_to=until))
    with ctx.db.transaction() as session:
        in_period = {
            m.id: m
            for m in session.scalars(
                select(MoneyMovement).where(
                    MoneyMovement.company_id == realm,
                    MoneyMovement.created >= begin,
                    MoneyMovement.created < until,
                )
            )
        }
        by_id = dict(in_period)
        for txn in txns:
            if txn.id not in by_id:
                row = session.get(MoneyMovement, txn.id)
                if row is not None:
                    by_id[txn.id] = row
        keys = [k for k in (expected_effect(t) for t in txns) if k]
        ledger = {
            e.key: (e.status, e.last_error if e.status == "failed" else e.remote_id)
            for e in session.scalars(select(Effect).where(Effect.key.in_(keys)))
        }
        for row in by_id.values():
            session.expunge(row)
        reduced = _reduced_payments(session, realm, txns, by_id)
    matched: list[tuple[BalanceTxn, list[EntryLink]]] = []
    for txn in txns:
        row = by_id.get(txn.id)
        if row is not None and row.company_id != realm:
            continue  # another company's movement on a shared Stripe account
        totals = report.currency(txn.currency)
        totals.transactions += 1
        totals.stripe_net += txn.net
        if row is None:
            _unrecorded(ctx, report, txn, ledger)
            continue
        entries = entries_of(row)
        booked = sum((e.clearing for e in entries), Decimal(0))
        if booked != txn.net:
            report.differ(
                txn.currency,
                txn.id,
                f"{txn.type} of net {txn.net} is booked in QBO as {booked} ({_describe(entries)})",
                "correct the QBO entries to the Stripe amount, or void them and let syncd re-enter them",
            )
            continue
        totals.matched += 1
        matched.append((txn, entries))
    seen = {t.id for t in txns}
    for row in in_period.values():
        if row.id not in seen:
            report.differ(
                row.currency,
                row.id,
                f"syncd booked {row.type} {row.net} ({_describe(entries_of(row))}) but Stripe lists no such "
                "balance transaction in the period",
                "check the Stripe dashboard for this transaction; if it does not exist, void the QBO entries",
            )
    _clearing_movement(ctx, report, realm, matched, verify_qbo, reduced)
    return report


def _reduced_payments(
    session: Session, realm: str, txns: list[BalanceTxn], by_id: dict[str, MoneyMovement]
) -> dict[str, Decimal]:
    """For each QBO Payment this period touches that a refund reduced (in any period), what it
    should hold now: what it deposited less every refund taken off it since."""
    reductions = reductions_by_payment(session, realm)
    if not reductions:
        return {}
    deposits: dict[str, Decimal | None] = {}
    for txn in txns:
        row = by_id.get(txn.id)
        for entry in entries_of(row) if row is not None else ():
            if entry.entity == "Payment" and entry.qbo_id in reductions:
                if entry.role == "payment":
                    deposits[entry.qbo_id] = entry.clearing
                else:
                    deposits.setdefault(entry.qbo_id, None)
    out: dict[str, Decimal] = {}
    for payment_id, deposit in deposits.items():
        if deposit is None:
            # Only its refund is in this period: read its charge's movement, whenever that was.
            deposit = payment_deposit(session, realm, payment_id)
        if deposit is not None:
            out[payment_id] = deposit + reductions[payment_id]
    return out


def _unrecorded(
    ctx: Context, report: AuditReport, txn: BalanceTxn, ledger: dict[str, tuple[str, str | None]]
) -> None:
    totals = report.currency(txn.currency)
    if txn.type == "payout" and txn.source_id:
        try:
            payout = ctx.stripe.get_payout(txn.source_id)
        except SyncdError:
            payout = None
        if payout is not None and payout.status in (PayoutStatus.PENDING, PayoutStatus.IN_TRANSIT):
            totals.in_transit += txn.net
            report.notes.append(
                f"payout {payout.id} of {payout.amount} {payout.currency} is in transit, arriving "
                f"{payout.arrival_date.date().isoformat()}: its Transfer is written when it arrives"
            )
            return
    key = expected_effect(txn)
    state = ledger.get(key) if key else None
    what = f"{txn.type} {txn.net} {txn.currency} ({txn.source_id or 'no source'})"
    if key is None:
        report.differ(
            txn.currency,
            txn.id,
            f"{what} is a kind of Stripe movement syncd does not book",
            "enter it in QBO by hand against the clearing account",
        )
    elif state is None:
        report.differ(
            txn.currency,
            txn.id,
            f"{what} has no QBO entry and syncd never queued one (a missed webhook, or not syncd's payment)",
            "check the Stripe webhook endpoint and let `syncd run` backfill events; if it is not from a "
            "syncd payment, enter it by hand",
        )
    elif state[0] == "failed":
        report.differ(
            txn.currency,
            txn.id,
            f"{what}: writing it to QBO failed: {state[1]}",
            f"fix the cause and retry {key}",
        )
    elif state[0] == "done":
        report.differ(
            txn.currency,
            txn.id,
            f"{what}: syncd did not book it ({state[1]})",
            "if it belongs to this company, enter it by hand against the clearing account",
        )
    else:
        report.differ(
            txn.currency,
            txn.id,
            f"{what}: its QBO entry is still being written ({key})",
            "wait for syncd to finish (is `syncd run` running?), then audit again",
        )


def _describe(entries: list[EntryLink]) -> str:
    return ", ".join(f"{e.role} {e.entity} {e.qbo_id} {e.clearing}" for e in entries) or "no entries"


def _expected(entries: list[EntryLink]) -> dict[tuple[str, str], _Expected]:
    out: dict[tuple[str, str], _Expected] = {}
    for e in entries:
        if e.entity == NO_ENTRY:
            continue
        key = (e.entity, e.qbo_id)
        prior = out.get(key)
        voided = e.role == "void" or (prior is not None and prior.voided)
        clearing = e.clearing + (prior.clearing if prior else Decimal(0))
        amount = Decimal(0) if voided else abs(clearing)
        check = e.role not in _FROM_BANK and (prior.check_account if prior else True)
        out[key] = _Expected(e.entity, e.qbo_id, amount, voided, clearing, check)
    return out


def _clearing_movement(
    ctx: Context,
    report: AuditReport,
    realm: str,
    matched: list[tuple[BalanceTxn, list[EntryLink]]],
    verify_qbo: bool,
    reduced: dict[str, Decimal],
) -> None:
    """Add each matched movement's clearing effect as QBO holds it (one read per entity)."""
    expected: dict[tuple[str, str], tuple[str, _Expected]] = {}
    for txn, entries in matched:
        for key, exp in _expected(entries).items():
            currency = txn.currency.upper()
            if key in expected:
                # A voided Payment appears under its charge and its return: merge the two views.
                _, prior = expected[key]
                clearing = prior.clearing + exp.clearing
                voided = prior.voided or exp.voided
                exp = _Expected(
                    exp.entity,
                    exp.qbo_id,
                    Decimal(0) if voided else abs(clearing),
                    voided,
                    clearing,
                    exp.check_account,
                )
            expected[key] = (currency, exp)
    for (entity, qbo_id), (currency, exp) in list(expected.items()):
        if entity == "Payment" and qbo_id in reduced and not exp.voided:
            # Refunds reopened its invoices: QBO holds the deposit less all of them, this
            # period's or not, while only this period's move the clearing total.
            expected[(entity, qbo_id)] = (currency, replace(exp, amount=reduced[qbo_id]))
    clearing_ids: dict[str, str] = {}
    for (entity, qbo_id), (currency, exp) in sorted(expected.items()):
        totals = report.currency(currency)
        if not verify_qbo:
            totals.qbo_clearing += exp.clearing
            continue
        if currency not in clearing_ids:
            clearing_ids[currency] = books_accounts(ctx, realm, currency).clearing.qbo_id
        found = ctx.qbo(realm).get_entry(entity, qbo_id)
        if found is not None and found.voided and not exp.voided and entity == "Payment":
            # Voided by a later ACH return: QBO zeroes it on its own date, Stripe shows the
            # return on the later one. Matched here; the return's period carries the void.
            report.notes.append(
                f"QBO Payment {qbo_id} ({exp.clearing} {currency}) was voided by a later bank return; "
                "QuickBooks shows this period's clearing lower by that amount"
            )
            totals.qbo_clearing += exp.clearing
            continue
        problem = _mismatch(found, exp, clearing_ids[currency], currency)
        if problem is None:
            totals.qbo_clearing += exp.clearing
        else:
            report.differ(
                currency,
                f"{entity} {qbo_id}",
                problem,
                "restore the entry in QuickBooks to what Stripe shows (or void it and let syncd re-enter it)",
            )
            if found is not None and not exp.voided:
                totals.qbo_clearing += found.amount if exp.clearing >= 0 else -found.amount


def _mismatch(found: QboEntry | None, exp: _Expected, clearing_id: str, currency: str) -> str | None:
    if found is None:
        return f"the QBO {exp.entity} {exp.qbo_id} syncd wrote no longer exists (deleted in QuickBooks?)"
    if exp.voided:
        return (
            None if found.amount == 0 else f"the QBO {exp.entity} should be voided but shows {found.amount}"
        )
    amount = found.amount
    if found.currency and found.currency.upper() != currency.upper() and found.exchange_rate is not None:
        # An entry in the customer's currency that Stripe settled in another: compare what it
        # moves in the clearing account's currency.
        amount = (found.amount * found.exchange_rate).quantize(Decimal("0.01"))
    if amount != exp.amount:
        return f"the QBO {exp.entity} shows {amount}, Stripe moved {exp.amount} (edited in QuickBooks?)"
    if exp.check_account and found.account_id not in (None, clearing_id):
        return (
            f"the QBO {exp.entity} moves account {found.account_id}, not the clearing account {clearing_id}"
        )
    return None
