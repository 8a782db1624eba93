"""An in-memory QuickBooks company implementing ``syncd.ports.quickbooks.QuickBooks``, held to the
same contract tests as the connector over the simulator and over the stubbed real payloads."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TypeVar, cast

from syncd.domain import (
    AccountRef,
    BooksAccounts,
    CompanyInfo,
    Customer,
    Invoice,
    InvoiceLine,
    QboChanges,
    QboDepositDraft,
    QboEntry,
    QboEntryRef,
    QboPaymentBooked,
    QboPaymentDraft,
    QboPaymentLine,
    QboPaymentReduction,
    QboPaymentRestore,
    QboPosting,
    QboPurchaseDraft,
    QboRefundDraft,
    QboTransferDraft,
)
from syncd.domain.collections import QboWriteOffBooked, QboWriteOffDraft, with_hold_note
from syncd.domain.recurring import RecurringChange, RecurringTemplate, Schedule
from syncd.errors import (
    NotReducibleError,
    OpenBalanceError,
    PermanentError,
    ReconnectNeededError,
    SyncdError,
    ValidationError,
)
from syncd.ports.quickbooks import AccountNames, LinkWrite, QuickBooks, RequestCounts, WriteItem

MAX_BATCH = 30
PAGE = 1000
CDC_DAYS = 30

T = TypeVar("T")
Draft = QboPaymentDraft | QboPurchaseDraft | QboTransferDraft | QboRefundDraft | QboDepositDraft


@dataclasses.dataclass
class _Entry:
    """A transaction syncd wrote: its postings are (account id, signed amount)."""

    entity: str
    qbo_id: str
    amount: Decimal
    txn_date: date
    currency: str
    exchange_rate: Decimal | None
    memo: str
    postings: list[tuple[str, Decimal]]
    lines: tuple[QboPaymentLine, ...] = ()
    customer_id: str | None = None
    sync: int = 0
    voided: bool = False
    markers: set[str] = dataclasses.field(default_factory=set)

    def ref(self) -> QboEntryRef:
        return QboEntryRef(self.entity, self.qbo_id, str(self.sync))


class FakeQuickBooks:
    """One company: customers, invoices, accounts and the entries syncd writes, all in memory.

    Writes are idempotent under their ``request_id`` like QBO's ``requestid``; a payment line
    applies to its invoice's balance and a void gives it back. ``connected=False`` stands for a
    company whose refresh token Intuit refused.
    """

    def __init__(
        self,
        realm_id: str = "9130000000000001",
        *,
        name: str = "Fake Company",
        home_currency: str = "USD",
        timezone: str | None = "America/New_York",
        currencies: tuple[str, ...] = (),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.realm_id = realm_id
        self.name = name
        self.home_currency = home_currency
        self.timezone = timezone
        self.currencies = {home_currency, *currencies}  # multicurrency: the ones enabled
        self.clock = clock
        self.connected = True
        self.customers: dict[str, Customer] = {}
        self.notes: dict[str, str] = {}  # Customer.Notes
        self.invoices: dict[str, Invoice] = {}
        self.deleted: dict[str, datetime] = {}  # invoice id -> when
        self.entries: dict[tuple[str, str], _Entry] = {}
        self.accounts: dict[str, AccountRef] = {}  # by name
        self.links: dict[str, str] = {}  # invoice id -> url written back
        self.templates: dict[str, RecurringTemplate] = {}  # recurring invoice templates by id
        self._done: dict[str, object] = {}  # request id -> what it answered
        self._ids = 100
        self._reads = self._writes = self._batches = 0

    # -- seeding (what a business did in QuickBooks) ----------------------------------------------

    def _next_id(self) -> str:
        self._ids += 1
        return str(self._ids)

    def add_customer(self, name: str, email: str | None = None, phone: str | None = None) -> Customer:
        customer = Customer(self._next_id(), name, email, phone, self.home_currency, True, self.clock())
        self.customers[customer.qbo_id] = customer
        return customer

    def add_invoice(self, customer: Customer, amount: Decimal, *, days_due: int = 30) -> Invoice:
        today = self.clock().date()
        qbo_id = self._next_id()
        invoice = Invoice(
            qbo_id=qbo_id,
            doc_number=f"F-{qbo_id}",
            customer_id=customer.qbo_id,
            customer_name=customer.display_name,
            currency=customer.currency,
            txn_date=today,
            due_date=today + timedelta(days=days_due),
            total=amount,
            balance=amount,
            tax=Decimal(0),
            lines=(InvoiceLine("Services", Decimal(1), amount, amount),),
            status=Invoice.status_for(amount, amount),
            sync_token="0",
            updated_at=self.clock(),
            email=customer.email,
        )
        self.invoices[qbo_id] = invoice
        return invoice

    def delete_invoice(self, invoice_id: str) -> None:
        self.invoices.pop(invoice_id)
        self.deleted[invoice_id] = self.clock()

    def _change_balance(self, invoice_id: str, delta: Decimal) -> None:
        old = self.invoices[invoice_id]
        balance = old.balance + delta
        self.invoices[invoice_id] = dataclasses.replace(
            old,
            balance=balance,
            status=Invoice.status_for(old.total, balance),
            sync_token=str(int(old.sync_token) + 1),
            updated_at=self.clock(),
        )

    # -- reads ------------------------------------------------------------------------------------

    def _read(self) -> None:
        if not self.connected:
            raise ReconnectNeededError(f"QBO company {self.realm_id}: the refresh token was refused")
        self._reads += 1

    def company_info(self) -> CompanyInfo:
        self._read()
        return CompanyInfo(self.realm_id, self.name, self.home_currency, self.timezone)

    def initial_pull(self) -> Iterator[QboChanges]:
        self._read()
        as_of = self.clock()
        customers, invoices = list(self.customers.values()), list(self.invoices.values())
        pages = max(1, -(-max(len(customers), len(invoices)) // PAGE))
        for page in range(pages):
            rows = slice(page * PAGE, (page + 1) * PAGE)
            last = page == pages - 1
            yield QboChanges(
                invoices=tuple(invoices[rows]),
                customers=tuple(customers[rows]),
                as_of=as_of if last else None,
            )

    def changes_since(self, since: datetime, until: datetime) -> QboChanges:
        if until - since > timedelta(days=CDC_DAYS):
            raise ValidationError(f"changes since {since.isoformat()} are older than {CDC_DAYS} days")
        self._read()

        def within(at: datetime) -> bool:
            return since <= at <= until

        payments = [e for e in self.entries.values() if e.entity == "Payment"]
        return QboChanges(
            invoices=tuple(i for i in self.invoices.values() if within(i.updated_at)),
            customers=tuple(c for c in self.customers.values() if within(c.updated_at)),
            deleted_invoice_ids=tuple(i for i, at in self.deleted.items() if within(at)),
            payment_ids=tuple(p.qbo_id for p in payments),
            as_of=until,
        )

    def get_invoice(self, invoice_id: str) -> Invoice | None:
        self._read()
        return self.invoices.get(invoice_id)

    def get_invoices(self, invoice_ids: Sequence[str]) -> list[Invoice]:
        self._read()
        return [self.invoices[i] for i in invoice_ids if i in self.invoices]

    def invoice_pdf(self, invoice_id: str) -> bytes:
        self._read()
        if invoice_id not in self.invoices:
            raise PermanentError(f"QBO has no Invoice {invoice_id}")
        return b"%PDF-1.4\n% invoice " + invoice_id.encode() + b"\n%%EOF\n"

    def get_entry(self, entity: str, entry_id: str) -> QboEntry | None:
        self._read()
        entry = self.entries.get((entity, entry_id))
        if entry is None:
            return None
        main = entry.postings[0][0] if entry.postings else None
        return QboEntry(
            entity,
            entry_id,
            Decimal(0) if entry.voided else entry.amount,
            entry.txn_date,
            main,
            voided=entry.voided,
            currency=entry.currency,
            exchange_rate=entry.exchange_rate,
        )

    def clearing_postings(
        self,
        account_ids: Collection[str],
        start: date,
        end: date,
        known: Mapping[str, Collection[str]],
    ) -> list[QboPosting]:
        self._read()
        wanted = set(account_ids)
        out: list[QboPosting] = []
        for (entity, qbo_id), entry in sorted(self.entries.items()):
            is_known = qbo_id in known.get(entity, ())
            if not is_known and not start <= entry.txn_date <= end:
                continue
            moved = [(a, amount) for a, amount in entry.postings if a in wanted]
            if not moved and is_known:
                moved = entry.postings[:1]
            for account_id, amount in moved:
                out.append(
                    QboPosting(
                        entity=entity,
                        qbo_id=qbo_id,
                        account_id=account_id,
                        amount=Decimal(0) if entry.voided else amount,
                        txn_date=entry.txn_date,
                        currency=entry.currency,
                        exchange_rate=entry.exchange_rate,
                        voided=entry.voided,
                        memo=entry.memo,
                        invoice_ids=tuple(line.invoice_id for line in entry.lines),
                    )
                )
        return out

    # -- writes -----------------------------------------------------------------------------------

    def _once(self, request_id: str, write: Callable[[], T]) -> T:
        """What ``request_id`` answered first, or the answer of doing the write now."""
        if request_id in self._done:
            return cast(T, self._done[request_id])
        if not self.connected:
            raise ReconnectNeededError(f"QBO company {self.realm_id}: the refresh token was refused")
        answer = write()
        self._writes += 1
        self._done[request_id] = answer
        return answer

    def _add(
        self,
        entity: str,
        draft: Draft,
        postings: list[tuple[str, Decimal]],
        *,
        lines: tuple[QboPaymentLine, ...] = (),
        customer_id: str | None = None,
    ) -> _Entry:
        rate = None if isinstance(draft, QboTransferDraft) else draft.exchange_rate
        entry = _Entry(
            entity=entity,
            qbo_id=self._next_id(),
            amount=draft.total if isinstance(draft, QboPaymentDraft) else draft.amount,
            txn_date=draft.txn_date,
            currency=draft.currency,
            exchange_rate=rate,
            memo=draft.memo,
            postings=postings,
            lines=lines,
            customer_id=customer_id,
        )
        self.entries[(entity, entry.qbo_id)] = entry
        return entry

    def _payment(self, draft: QboPaymentDraft) -> QboPaymentBooked:
        for line in draft.lines:
            invoice = self.invoices.get(line.invoice_id)
            if invoice is None or invoice.customer_id != draft.customer_id or line.amount > invoice.balance:
                raise OpenBalanceError(f"invoice {line.invoice_id} cannot take {line.amount}")
        for line in draft.lines:
            self._change_balance(line.invoice_id, -line.amount)
        entry = self._add(
            "Payment",
            draft,
            [(draft.deposit_account_id, draft.total)],
            lines=draft.lines,
            customer_id=draft.customer_id,
        )
        applied = sum((line.amount for line in draft.lines), Decimal(0))
        return QboPaymentBooked(entry.ref(), draft.lines, draft.total - applied)

    def book_payment(self, draft: QboPaymentDraft, *, request_id: str) -> QboPaymentBooked:
        return self._once(request_id, lambda: self._payment(draft))

    def create_payment(self, draft: QboPaymentDraft, *, request_id: str) -> QboEntryRef:
        return self.book_payment(draft, request_id=request_id).entry

    def _ref(self, request_id: str, write: Callable[[], _Entry]) -> QboEntryRef:
        return self._once(request_id, lambda: write().ref())

    def create_purchase(self, draft: QboPurchaseDraft, *, request_id: str) -> QboEntryRef:
        postings = [(draft.from_account_id, -draft.amount), (draft.expense_account_id, draft.amount)]
        return self._ref(request_id, lambda: self._add("Purchase", draft, postings))

    def create_transfer(self, draft: QboTransferDraft, *, request_id: str) -> QboEntryRef:
        postings = [(draft.from_account_id, -draft.amount), (draft.to_account_id, draft.amount)]
        return self._ref(request_id, lambda: self._add("Transfer", draft, postings))

    def create_refund(self, draft: QboRefundDraft, *, request_id: str) -> QboEntryRef:
        postings = [(draft.from_account_id, -draft.amount), (draft.income_account_id, -draft.amount)]
        return self._ref(
            request_id,
            lambda: self._add("RefundReceipt", draft, postings, customer_id=draft.customer_id),
        )

    def create_deposit(self, draft: QboDepositDraft, *, request_id: str) -> QboEntryRef:
        postings = [(draft.to_account_id, draft.amount), (draft.from_account_id, -draft.amount)]
        if draft.rounding_account_id is not None and draft.rounding:
            postings.append((draft.rounding_account_id, draft.rounding))
        return self._ref(request_id, lambda: self._add("Deposit", draft, postings))

    def _live_payment(self, payment_id: str) -> _Entry:
        entry = self.entries.get(("Payment", payment_id))
        if entry is None:
            raise PermanentError(f"QBO has no Payment {payment_id}")
        return entry

    def void_payment(self, payment_id: str, *, request_id: str) -> QboEntryRef:
        def void() -> _Entry:
            entry = self._live_payment(payment_id)
            if not entry.voided:
                for line in entry.lines:
                    if line.invoice_id in self.invoices:
                        self._change_balance(line.invoice_id, line.amount)
                entry.voided = True
                entry.sync += 1
            return entry

        return self._ref(request_id, void)

    def reduce_payment(self, reduction: QboPaymentReduction, *, request_id: str) -> QboEntryRef:
        def reduce() -> _Entry:
            entry = self.entries.get(("Payment", reduction.payment_id))
            if entry is None or entry.voided or entry.amount < reduction.amount:
                raise NotReducibleError(f"Payment {reduction.payment_id} cannot give {reduction.amount}")
            if reduction.marker in entry.markers:
                return entry
            left, lines = reduction.amount, list[QboPaymentLine]()
            for line in reversed(entry.lines):  # the last invoice paid reopens first
                take = min(left, line.amount)
                left -= take
                if take and line.invoice_id in self.invoices:
                    self._change_balance(line.invoice_id, take)
                lines.insert(0, QboPaymentLine(line.invoice_id, line.amount - take))
            entry.lines = tuple(line for line in lines if line.amount)
            entry.amount -= reduction.amount
            entry.postings = [(entry.postings[0][0], entry.amount)]
            entry.markers.add(reduction.marker)
            entry.sync += 1
            return entry

        return self._ref(request_id, reduce)

    def restore_payment(self, restore: QboPaymentRestore, *, request_id: str) -> QboEntryRef:
        def put_back() -> _Entry:
            entry = self._live_payment(restore.payment_id)
            if restore.marker in entry.markers:
                return entry
            for line in restore.lines:
                invoice = self.invoices.get(line.invoice_id)
                if invoice is not None and line.amount <= invoice.balance:
                    self._change_balance(line.invoice_id, -line.amount)
                    entry.lines += (line,)
            entry.amount += restore.amount
            entry.postings = [(entry.postings[0][0], entry.amount)]
            entry.markers.add(restore.marker)
            entry.sync += 1
            return entry

        return self._ref(request_id, put_back)

    def write_batch(
        self, items: Sequence[WriteItem], *, request_id: str | None = None
    ) -> list[QboEntryRef | SyncdError]:
        if len(items) > MAX_BATCH:
            raise PermanentError(f"QBO batch takes at most {MAX_BATCH} items, got {len(items)}")
        if not items:
            return []
        self._batches += 1
        key = request_id or "batch:" + "|".join(item.request_id for item in items)
        return self._once(key, lambda: [self._batch_item(item.draft) for item in items])

    def _batch_item(self, draft: Draft) -> QboEntryRef | SyncdError:
        creates: dict[type, Callable[..., QboEntryRef]] = {
            QboPaymentDraft: self.create_payment,
            QboPurchaseDraft: self.create_purchase,
            QboTransferDraft: self.create_transfer,
            QboRefundDraft: self.create_refund,
        }
        try:
            return creates[type(draft)](draft, request_id=f"item:{self._next_id()}")
        except SyncdError as exc:
            return exc

    def _link(self, invoice_id: str, url: str) -> QboEntryRef:
        invoice = self.invoices.get(invoice_id)
        if invoice is None:
            raise PermanentError(f"QBO has no Invoice {invoice_id}")
        if self.links.get(invoice_id) != url:
            self.links[invoice_id] = url
            self.invoices[invoice_id] = dataclasses.replace(
                invoice, sync_token=str(int(invoice.sync_token) + 1), updated_at=self.clock()
            )
        return QboEntryRef("Invoice", invoice_id, self.invoices[invoice_id].sync_token)

    def set_invoice_link(self, invoice_id: str, url: str, *, request_id: str) -> QboEntryRef:
        return self._once(request_id, lambda: self._link(invoice_id, url))

    def set_invoice_links(
        self, items: Sequence[LinkWrite], *, request_id: str
    ) -> list[QboEntryRef | SyncdError]:
        if len(items) > MAX_BATCH:
            raise PermanentError(f"QBO batch takes at most {MAX_BATCH} items, got {len(items)}")
        self._batches += 1

        def write_all() -> list[QboEntryRef | SyncdError]:
            results: list[QboEntryRef | SyncdError] = []
            for item in items:
                try:
                    results.append(self._link(item.invoice_id, item.url))
                except SyncdError as exc:
                    results.append(exc)
            return results

        return self._once(request_id, write_all)

    def update_customer_contact(
        self, customer_id: str, *, email: str | None, phone: str | None, request_id: str
    ) -> QboEntryRef:
        def update() -> QboEntryRef:
            old = self.customers.get(customer_id)
            if old is None:
                raise PermanentError(f"QBO has no Customer {customer_id}")
            new = dataclasses.replace(
                old,
                email=old.email if email is None else email,
                phone=old.phone if phone is None else phone,
            )
            if new != old:
                self.customers[customer_id] = dataclasses.replace(new, updated_at=self.clock())
            return QboEntryRef("Customer", customer_id, "0")

        return self._once(request_id, update)

    def set_hold_note(self, customer_id: str, line: str | None, *, request_id: str) -> QboEntryRef:
        def update() -> QboEntryRef:
            if customer_id not in self.customers:
                raise PermanentError(f"QBO has no Customer {customer_id}")
            self.notes[customer_id] = with_hold_note(self.notes.get(customer_id, ""), line)
            return QboEntryRef("Customer", customer_id, "0")

        return self._once(request_id, update)

    def write_off(self, draft: QboWriteOffDraft, *, request_id: str) -> QboWriteOffBooked:
        """A credit memo applied to the invoices: their balances drop, nothing posts to clearing."""

        def write() -> QboWriteOffBooked:
            for line in draft.invoices:
                invoice = self.invoices.get(line.invoice_id)
                if (
                    invoice is None
                    or invoice.customer_id != draft.customer_id
                    or line.amount > invoice.balance
                ):
                    raise OpenBalanceError(f"invoice {line.invoice_id} cannot take {line.amount}")
            memo_id, payment_id = self._next_id(), self._next_id()
            for line in draft.invoices:
                self._change_balance(line.invoice_id, -line.amount)
            return QboWriteOffBooked(memo_id, payment_id)

        return self._once(request_id, write)

    def ensure_accounts(self, currency: str, names: AccountNames) -> BooksAccounts:
        self._read()
        if currency.upper() not in self.currencies:
            raise ValidationError(f"Currency {currency.upper()} is not enabled in this company")

        def account(name: str) -> AccountRef:
            if name not in self.accounts:
                self.accounts[name] = AccountRef(self._next_id(), name)
            return self.accounts[name]

        bank = names.bank_for(currency, self.home_currency)
        return BooksAccounts(
            currency=currency.upper(),
            clearing=account(names.clearing),
            fee_expense=account(names.fee_expense),
            bank=account(bank) if bank is not None else None,
            stripe_vendor=account(names.stripe_vendor),
            refund_income=account(names.refund_income),
            rounding=account(names.rounding),
        )

    def add_template(
        self, customer: Customer, amount: Decimal, schedule: Schedule, *, name: str = "Monthly service"
    ) -> RecurringTemplate:
        """A recurring invoice template as a bookkeeper sets one up (active, automated)."""
        template = RecurringTemplate(
            self._next_id(), "0", name, customer.qbo_id, amount, customer.currency, True, True, schedule
        )
        self.templates[template.template_id] = template
        return template

    def recurring_templates(self) -> list[RecurringTemplate]:
        self._read()
        return list(self.templates.values())

    def update_recurring(self, change: RecurringChange, *, request_id: str) -> RecurringTemplate:
        def update() -> RecurringTemplate:
            current = self.templates.get(change.template_id)
            if current is None:
                raise PermanentError(f"QBO recurring template {change.template_id} does not exist")
            active = current.active if change.active is None else change.active
            end = current.schedule.end_date
            if change.end_date is not None and (end is None or end > change.end_date):
                end = max(change.end_date, current.schedule.start)
            if active == current.active and end == current.schedule.end_date:
                return current
            schedule = dataclasses.replace(current.schedule, end_date=end)
            changed = dataclasses.replace(
                current, active=active, schedule=schedule, sync_token=str(int(current.sync_token) + 1)
            )
            self.templates[change.template_id] = changed
            return changed

        return self._once(request_id, update)

    def keep_alive(self) -> None:
        if not self.connected:
            raise ReconnectNeededError(f"QBO company {self.realm_id}: the refresh token was refused")

    def counts(self) -> RequestCounts:
        return RequestCounts(reads=self._reads, writes=self._writes, batches=self._batches, throttled=0)


def _is_quickbooks(fake: FakeQuickBooks) -> QuickBooks:
    return fake  # mypy proves the fake implements the whole Protocol
