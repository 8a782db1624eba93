"""Collections over time: money received per week or month, by method and by what triggered it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import ClassVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.catalog import EffectKind
from syncd.domain.invoices import InvoiceStatus
from syncd.domain.payments import PaymentStatus
from syncd.reports.common import ZERO, ChartData, Tabular, day_start, local_day, money, month_of, next_month
from syncd.reports.common import week_of as monday_of
from syncd.store.effects import EffectStatus
from syncd.store.models import Effect, InvoiceRow, PaymentRow

METHODS = ("card", "bank_debit", "online_unrecorded", "in_quickbooks")
CHANNELS = ("invoice_email", "reminder", "account", "autopay", "unknown")
GRAINS = ("week", "month")
_METHOD_OF = {"card": "card", "us_bank_account": "bank_debit"}
_EMAIL_KINDS = (EffectKind.EMAIL_INVOICE, EffectKind.EMAIL_REMINDER, EffectKind.EMAIL_NOTICE)


@dataclass(frozen=True, slots=True)
class Collected:
    """One period's money received in one currency; methods and channels each add up to total."""

    period: date
    currency: str
    total: Decimal
    by_method: tuple[Decimal, ...]
    by_channel: tuple[Decimal, ...]


@dataclass(frozen=True, slots=True)
class Collections(Tabular):
    """Money received, per period (ISO week from Monday, or calendar month, in the company's zone).

    Methods: ``card`` and ``bank_debit`` as Stripe reported them (a Checkout that offered card only
    is card); ``online_unrecorded`` paid through syncd by a method this store did not record;
    ``in_quickbooks`` is what QBO shows paid or credited that syncd did not take (cheques, cash,
    credit memos), dated by QBO's last change of the invoice.

    Channels (what triggered a payment through syncd) are the last message syncd sent about the
    invoice before the payment was started: the invoice email or a reminder (a daily customer
    message counts by why it named the invoice); a payment of several invoices at once can only
    come from the customer account. ``autopay`` stays empty until syncd charges on its own. Anything
    else, and every ``in_quickbooks`` amount, is ``unknown``: syncd does not guess."""

    name: ClassVar[str] = "collections"
    title: ClassVar[str] = "Collections"
    COLUMNS: ClassVar[tuple[str, ...]] = ("period", "currency", "total", *METHODS, *CHANNELS)

    company_id: str
    start: date
    end: date
    grain: str
    periods: tuple[Collected, ...]

    def params(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "by": self.grain}

    def table(self) -> list[tuple[str, ...]]:
        return [
            (
                p.period.isoformat(),
                p.currency,
                money(p.total, p.currency),
                *(money(v, p.currency) for v in p.by_method),
                *(money(v, p.currency) for v in p.by_channel),
            )
            for p in self.periods
        ]

    def charts(self) -> list[ChartData]:
        charts = []
        for currency in sorted({p.currency for p in self.periods}):
            mine = [p for p in self.periods if p.currency == currency]
            labels = tuple(p.period.isoformat() for p in mine)
            charts.append(
                ChartData(
                    f"Collected per {self.grain} ({currency})",
                    labels,
                    (("total", tuple(p.total for p in mine)),),
                    kind="line",
                )
            )
            charts.append(
                ChartData(
                    f"Collected by method ({currency})",
                    labels,
                    tuple((m, tuple(p.by_method[i] for p in mine)) for i, m in enumerate(METHODS)),
                    kind="stacked",
                )
            )
            charts.append(
                ChartData(
                    f"Collected by channel ({currency})",
                    labels,
                    tuple((c, tuple(p.by_channel[i] for p in mine)) for i, c in enumerate(CHANNELS)),
                    kind="stacked",
                )
            )
        return charts

    def notes(self) -> tuple[str, ...]:
        return (
            "Gross amounts received; refunds, disputes and returned bank debits are not netted here.",
            "Channel is the last message syncd sent about the invoice before the payment started.",
        )


def periods(start: date, end: date, grain: str) -> list[date]:
    """The first day of every period touching [start, end]."""
    if grain not in GRAINS:
        raise ValueError(f"unknown period {grain!r}; use week or month")
    first = monday_of(start) if grain == "week" else month_of(start)
    out = []
    while first <= end:
        out.append(first)
        first = first + timedelta(days=7) if grain == "week" else next_month(first)
    return out


def _method(row: PaymentRow) -> str:
    if row.method in _METHOD_OF:
        return _METHOD_OF[row.method]
    if row.offered_methods == ["card"]:
        return "card"
    return "online_unrecorded"


def _messages(session: Session, company_id: str) -> dict[str, list[tuple[datetime, str]]]:
    """Per invoice, when syncd emailed about it and as what channel."""
    sent: dict[str, list[tuple[datetime, str]]] = {}
    rows = session.execute(
        select(Effect.kind, Effect.payload, Effect.done_at).where(
            Effect.company_id == company_id,
            Effect.kind.in_([k.value for k in _EMAIL_KINDS]),
            Effect.status == EffectStatus.DONE.value,
        )
    )
    for kind, payload, done_at in rows:
        if done_at is None:
            continue
        if kind == EffectKind.EMAIL_NOTICE.value:
            items = payload.get("items")
            for item in items if isinstance(items, list) else ():
                channel = "reminder" if item.get("reason") == "reminder" else "invoice_email"
                sent.setdefault(str(item.get("invoice_id")), []).append((done_at, channel))
        else:
            channel = "reminder" if kind == EffectKind.EMAIL_REMINDER.value else "invoice_email"
            sent.setdefault(str(payload.get("invoice_id")), []).append((done_at, channel))
    return sent


def _channel(row: PaymentRow, sent: dict[str, list[tuple[datetime, str]]]) -> str:
    if len(row.invoice_ids) > 1:
        return "account"
    before = [m for m in sent.get(row.invoice_ids[0], ()) if m[0] <= row.created_at]
    return max(before)[1] if before else "unknown"


def _allocated(payments: Iterable[PaymentRow], paid: dict[str, Decimal]) -> dict[str, Decimal]:
    """How much of each invoice's paid amount syncd's payments account for: a payment of several
    invoices covers them in the order it lists them, each up to what QBO shows paid."""
    taken: dict[str, Decimal] = {}
    for row in payments:
        left = row.amount
        for invoice_id in row.invoice_ids:
            room = max(paid.get(invoice_id, ZERO) - taken.get(invoice_id, ZERO), ZERO)
            share = min(left, room)
            taken[invoice_id] = taken.get(invoice_id, ZERO) + share
            left -= share
    return taken


def build(
    session: Session, company_id: str, *, start: date, end: date, zone: ZoneInfo, grain: str = "week"
) -> Collections:
    """Three queries: the succeeded payments, the email effects, the invoices QBO shows paid."""
    firsts = periods(start, end, grain)
    slot = {p: i for i, p in enumerate(firsts)}
    sums: dict[tuple[int, str], tuple[list[Decimal], list[Decimal]]] = {}

    def add(day: date, currency: str, amount: Decimal, method: str, channel: str) -> None:
        if not start <= day <= end:
            return
        index = slot[monday_of(day) if grain == "week" else month_of(day)]
        methods, channels = sums.setdefault(
            (index, currency), ([ZERO] * len(METHODS), [ZERO] * len(CHANNELS))
        )
        methods[METHODS.index(method)] += amount
        channels[CHANNELS.index(channel)] += amount

    succeeded = list(
        session.scalars(
            select(PaymentRow)
            .where(PaymentRow.company_id == company_id, PaymentRow.status == PaymentStatus.SUCCEEDED.value)
            .order_by(PaymentRow.updated_at, PaymentRow.key)
        )
    )
    sent = _messages(session, company_id)
    for row in succeeded:
        add(local_day(row.updated_at, zone), row.currency, row.amount, _method(row), _channel(row, sent))

    invoices = session.execute(
        select(
            InvoiceRow.qbo_id,
            InvoiceRow.currency,
            InvoiceRow.total,
            InvoiceRow.balance,
            InvoiceRow.qbo_updated_at,
        ).where(
            InvoiceRow.company_id == company_id,
            InvoiceRow.status.not_in([InvoiceStatus.VOIDED.value, InvoiceStatus.DELETED.value]),
            InvoiceRow.qbo_updated_at >= day_start(start, zone),
        )
    ).all()
    paid = {i.qbo_id: i.total - i.balance for i in invoices}
    taken = _allocated(succeeded, paid)
    for invoice in invoices:
        elsewhere = paid[invoice.qbo_id] - taken.get(invoice.qbo_id, ZERO)
        if elsewhere > 0:
            add(
                local_day(invoice.qbo_updated_at, zone),
                invoice.currency,
                elsewhere,
                "in_quickbooks",
                "unknown",
            )

    # Every period of every currency that received anything, empty ones too: a gap is a figure.
    rows = []
    empty = ([ZERO] * len(METHODS), [ZERO] * len(CHANNELS))
    for currency in sorted({c for _, c in sums}):
        for index, first in enumerate(firsts):
            methods, channels = sums.get((index, currency), empty)
            rows.append(Collected(first, currency, sum(methods, ZERO), tuple(methods), tuple(channels)))
    return Collections(company_id, start, end, grain, tuple(rows))
