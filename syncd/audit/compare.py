"""The audit itself: Stripe's balance transactions for a period against the entries syncd made in QBO,
both ways, and the clearing account's movement against the Stripe balance's, per currency."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.audit.clearing import build_ledger, check_clearing
from syncd.audit.report import AuditReport
from syncd.catalog import EffectKind
from syncd.catalog.payloads import PayoutFailed, QboDispute, QboFee, QboPayout, QboRefund, QboRefundFailed
from syncd.context import Context
from syncd.domain import BalanceTxn, PayoutStatus
from syncd.errors import SyncdError
from syncd.stages.books.movements import EntryLink, entries_of, payment_deposit, reductions_by_payment
from syncd.store.models import Effect, MoneyMovement


def period(start: date, end: date) -> tuple[datetime, datetime]:
    """``start`` to ``end`` inclusive, as UTC instants [from, to)."""
    return datetime.combine(start, time(), UTC), datetime.combine(end + timedelta(days=1), time(), UTC)


def expected_effect(txn: BalanceTxn) -> str | None:
    """The effect key that books ``txn`` (see DESIGN §4 and syncd.stages.books), from the catalog's
    key builders."""
    source = txn.source_id or ""
    if txn.type in ("charge", "payment"):
        return QboFee.key_with(balance_txn_id=txn.id)
    if txn.type in ("refund", "payment_refund"):
        return QboRefund.key_with(refund_id=source)
    if txn.type == "refund_failure":
        return QboRefundFailed.key_with(refund_id=source)
    if source.startswith("dp_") or txn.type in ("adjustment", "dispute"):
        return QboDispute.key_with(dispute_id=source, balance_txn_id=txn.id)
    if txn.type == "payout":
        return QboPayout.key_with(payout_id=source)
    if txn.type in ("payout_failure", "payout_cancel"):
        return PayoutFailed.key_with(payout_id=source)
    return None


def run_audit(ctx: Context, realm: str, start: date, end: date, *, verify_qbo: bool = True) -> AuditReport:
    ctx.settings.company(realm)  # a ConfigError for an unknown company
    ctx = ctx.for_company(realm)  # the Stripe account the company is paid into, its balance alone
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
        states = {
            e.key: (e.status, e.last_error if e.status == "failed" else e.remote_id)
            for e in session.scalars(select(Effect).where(Effect.key.in_(keys)))
        }
        # A charge's first QBO write is its Payment, keyed by the payment intent, not the charge.
        # A held write (QBO refused it; syncd keeps retrying) is named as such, with QBO's answer.
        unwritten = [
            (e.key, "held" if e.held_at is not None else e.status, e.last_error)
            for e in session.scalars(
                select(Effect).where(
                    Effect.company_id == realm, Effect.kind == EffectKind.QBO_PAYMENT, Effect.status != "done"
                )
            )
        ]
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
            _unrecorded(ctx, report, txn, states, unwritten)
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
        totals.rounding += sum((e.clearing for e in entries if e.role == "rounding"), Decimal(0))
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
    with ctx.db.transaction() as session:
        ledger = build_ledger(session, realm, begin, until, matched, reduced)
    if verify_qbo:
        check_clearing(ctx, report, realm, start, end, ledger)
    else:
        for exp in ledger.expected.values():
            report.currency(exp.currency).qbo_clearing += exp.clearing
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


def _failed_payment(
    ctx: Context, txn: BalanceTxn, unwritten: list[tuple[str, str, str | None]]
) -> tuple[str, str, str | None] | None:
    """The unfinished QBO Payment write of the charge ``txn`` (one Stripe read per candidate)."""
    if txn.type not in ("charge", "payment"):
        return None
    for key, status, error in unwritten:
        try:
            intent = ctx.stripe.get_payment_intent(key.rsplit(":", 1)[-1])
        except SyncdError:
            continue
        booked = intent.balance_txn
        if (booked is not None and booked.id == txn.id) or intent.latest_charge_id == txn.source_id:
            return key, status, error
    return None


def _unrecorded(
    ctx: Context,
    report: AuditReport,
    txn: BalanceTxn,
    ledger: dict[str, tuple[str, str | None]],
    unwritten: list[tuple[str, str, str | None]],
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
    if state is None and (payment := _failed_payment(ctx, txn, unwritten)) is not None:
        key, status, error = payment
        state = (status, error)
        if status == "failed":
            report.differ(
                txn.currency,
                txn.id,
                f"{what} has no QBO entry: writing its QBO Payment failed: {error}",
                f"fix the cause in QuickBooks, then `syncd failed --retry` ({key})",
            )
            return
        if status == "held":
            report.differ(
                txn.currency,
                txn.id,
                f"{what} has no QBO entry: writing its QBO Payment is held, QBO answered: {error}",
                f"fix the cause; syncd retries it on its own (`syncd failed --retry` tries now: {key})",
            )
            return
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
