"""QboConnector: the QuickBooks Protocol for one company, on python-quickbooks and intuit-oauth."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import date, datetime
from types import TracebackType

import requests
from intuitlib.client import AuthClient

from connectors.quickbooks import (
    accounts,
    batch,
    clearing,
    links,
    pull,
    reads,
    recurring,
    reductions,
    updates,
    write_offs,
    writes,
)
from connectors.quickbooks.errors import QboNotFoundError, payment_link_error
from connectors.quickbooks.limits import CompanyLimits, limits_for
from connectors.quickbooks.mapping import Json, is_deleted, to_entry, to_invoice
from connectors.quickbooks.oauth import TokenManager, make_auth_client, utcnow
from connectors.quickbooks.sdk import SdkCalls, make_sdk
from connectors.quickbooks.transport import QboTransport
from syncd.domain import (
    BooksAccounts,
    CompanyInfo,
    Invoice,
    QboChanges,
    QboDepositDraft,
    QboEntry,
    QboEntryRef,
    QboPaymentBooked,
    QboPaymentDraft,
    QboPaymentReduction,
    QboPaymentRestore,
    QboPosting,
    QboPurchaseDraft,
    QboRefundDraft,
    QboTransferDraft,
)
from syncd.domain.collections import QboWriteOffBooked, QboWriteOffDraft, with_hold_note
from syncd.domain.recurring import RecurringChange, RecurringTemplate
from syncd.errors import NotReducibleError, SyncdError
from syncd.ports.quickbooks import AccountNames, LinkWrite, QboSettings, RequestCounts, TokenStore, WriteItem


class QboConnector:
    """One QBO company. Thread-safe: limits, token refresh and counters are shared under locks."""

    def __init__(
        self,
        settings: QboSettings,
        realm_id: str,
        token_store: TokenStore,
        *,
        home_currency: str | None = None,
        link_custom_field_id: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], None] = time.sleep,
        limits: CompanyLimits | None = None,
        session: requests.Session | None = None,
        auth_client_factory: Callable[[QboSettings], AuthClient] = make_auth_client,
        max_retries: int = 4,
        max_throttle_retries: int = 30,
    ) -> None:
        self.realm_id = realm_id
        self.settings = settings
        self._clock = clock
        self._link_field = link_custom_field_id
        self.tokens = TokenManager(
            settings, realm_id, token_store, clock=clock, auth_client_factory=auth_client_factory
        )
        self.transport = QboTransport(
            self.tokens,
            limits or limits_for(realm_id),
            timeout=settings.timeout_seconds,
            session=session,
            sleep=sleep,
            max_retries=max_retries,
            max_throttle_retries=max_throttle_retries,
        )
        self.calls = SdkCalls(make_sdk(settings, realm_id, self.transport))
        self._home_currency = home_currency.upper() if home_currency else None
        self._refund_items: dict[str, str] = {}
        self._lock = threading.Lock()
        self._home_lock = threading.Lock()

    # -- reads -------------------------------------------------------------------------------

    def company_info(self) -> CompanyInfo:
        info = reads.company_info(self.calls, self.realm_id)
        self._home_currency = info.home_currency
        return info

    def home_currency(self) -> str:
        """Read once per connector (one request), however many threads ask at the same time."""
        if self._home_currency is None:
            with self._home_lock:
                if self._home_currency is None:
                    self.company_info()
        assert self._home_currency is not None
        return self._home_currency

    def initial_pull(self) -> Iterator[QboChanges]:
        return pull.initial_pull(self.calls, self.home_currency(), clock=self._clock)

    def changes_since(self, since: datetime, until: datetime) -> QboChanges:
        return pull.changes_since(self.calls, since, until, self.home_currency(), now=self._clock())

    def get_invoice(self, invoice_id: str) -> Invoice | None:
        obj = reads.read_entity(self.calls, "Invoice", invoice_id)
        if obj is None or is_deleted(obj):
            return None
        return to_invoice(obj, home_currency=self.home_currency())

    def get_invoices(self, invoice_ids: Sequence[str]) -> list[Invoice]:
        ids = sorted({str(i) for i in invoice_ids if str(i).isdigit()})
        if not ids:
            return []
        rows = reads.invoice_rows(self.calls, ids)
        home = self.home_currency()
        return [to_invoice(row, home_currency=home) for row in rows]

    def invoice_pdf(self, invoice_id: str) -> bytes:
        return self.calls.pdf("Invoice", invoice_id)

    # -- writes ------------------------------------------------------------------------------

    def _create(self, entity: str, body: Json, request_id: str) -> QboEntryRef:
        return writes.entry_ref(self.calls.create(entity, body, writes.qbo_request_id(request_id)), entity)

    def create_payment(self, draft: QboPaymentDraft, *, request_id: str) -> QboEntryRef:
        return self._create("Payment", writes.payment_body(draft), request_id)

    def book_payment(self, draft: QboPaymentDraft, *, request_id: str) -> QboPaymentBooked:
        try:
            answer = self.calls.create(
                "Payment", writes.payment_body(draft), writes.qbo_request_id(request_id)
            )
        except SyncdError as exc:
            raise payment_link_error(exc) from exc
        return writes.payment_booked(answer)

    def create_purchase(self, draft: QboPurchaseDraft, *, request_id: str) -> QboEntryRef:
        return self._create("Purchase", writes.purchase_body(draft), request_id)

    def create_transfer(self, draft: QboTransferDraft, *, request_id: str) -> QboEntryRef:
        return self._create("Transfer", writes.transfer_body(draft), request_id)

    def create_refund(self, draft: QboRefundDraft, *, request_id: str) -> QboEntryRef:
        body = writes.refund_body(draft, item_id=self._refund_item(draft.income_account_id))
        return self._create("RefundReceipt", body, request_id)

    def create_deposit(self, draft: QboDepositDraft, *, request_id: str) -> QboEntryRef:
        return self._create("Deposit", writes.deposit_body(draft), request_id)

    def get_entry(self, entity: str, entry_id: str) -> QboEntry | None:
        obj = reads.read_entity(self.calls, entity, entry_id)
        if obj is None or is_deleted(obj):
            return None
        return to_entry(entity, obj)

    def clearing_postings(
        self,
        account_ids: Collection[str],
        start: date,
        end: date,
        known: Mapping[str, Collection[str]],
    ) -> list[QboPosting]:
        return clearing.read_clearing(self.calls, account_ids, start, end, known)

    def _refund_item(self, income_account_id: str) -> str:
        with self._lock:
            item = self._refund_items.get(income_account_id)
        if item is None:
            item = accounts.ensure_refund_item(self.calls, self.realm_id, income_account_id)
            with self._lock:
                self._refund_items[income_account_id] = item
        return item

    def void_payment(self, payment_id: str, *, request_id: str) -> QboEntryRef:
        # Payments are voided by a sparse update with include=void (invoices take operation=void).
        void = {"operation": "update", "include": "void"}
        return updates.update_with_retry(
            self.calls, "Payment", payment_id, request_id, lambda _: {}, params=void
        )

    def reduce_payment(self, reduction: QboPaymentReduction, *, request_id: str) -> QboEntryRef:
        return self._change_payment(
            reduction.payment_id, request_id, lambda payment: reductions.reduced_fields(payment, reduction)
        )

    def restore_payment(self, restore: QboPaymentRestore, *, request_id: str) -> QboEntryRef:
        return self._change_payment(
            restore.payment_id, request_id, lambda payment: reductions.restored_fields(payment, restore)
        )

    def _change_payment(
        self, payment_id: str, request_id: str, change: Callable[[Json], Json | None]
    ) -> QboEntryRef:
        # The marker travels in the same update as the amounts, so a stale-token retry or a replay
        # after a crash sees whether this change is already in.
        try:
            return updates.update_with_retry(self.calls, "Payment", payment_id, request_id, change)
        except QboNotFoundError as exc:
            raise NotReducibleError(str(exc)) from exc

    def set_invoice_link(self, invoice_id: str, url: str, *, request_id: str) -> QboEntryRef:
        def change(invoice: Json) -> Json | None:
            memo = (invoice.get("CustomerMemo") or {}).get("value")
            fields = list(invoice.get("CustomField") or [])
            return links.link_fields(str(memo) if memo else None, fields, url, self._link_field)

        return updates.update_with_retry(self.calls, "Invoice", invoice_id, request_id, change)

    def set_invoice_links(
        self, items: Sequence[LinkWrite], *, request_id: str
    ) -> list[QboEntryRef | SyncdError]:
        urls = {item.invoice_id: item.url for item in items}

        def reread(invoice_id: str, item_request_id: str) -> QboEntryRef:
            return self.set_invoice_link(invoice_id, urls[invoice_id], request_id=item_request_id)

        return links.write_links(
            self.calls, items, request_id=request_id, field_id=self._link_field, reread=reread
        )

    def update_customer_contact(
        self, customer_id: str, *, email: str | None, phone: str | None, request_id: str
    ) -> QboEntryRef:
        def change(customer: Json) -> Json | None:
            fields: Json = {}
            if email and (customer.get("PrimaryEmailAddr") or {}).get("Address") != email:
                fields["PrimaryEmailAddr"] = {"Address": email}
            if phone and (customer.get("PrimaryPhone") or {}).get("FreeFormNumber") != phone:
                fields["PrimaryPhone"] = {"FreeFormNumber": phone}
            return fields or None

        return updates.update_with_retry(self.calls, "Customer", customer_id, request_id, change)

    def set_hold_note(self, customer_id: str, line: str | None, *, request_id: str) -> QboEntryRef:
        def change(customer: Json) -> Json | None:
            notes = str(customer.get("Notes") or "")
            wanted = with_hold_note(notes, line)
            return None if wanted == notes else {"Notes": wanted}

        return updates.update_with_retry(self.calls, "Customer", customer_id, request_id, change)

    def write_off(self, draft: QboWriteOffDraft, *, request_id: str) -> QboWriteOffBooked:
        return write_offs.write_off(self.calls, draft, request_id=request_id)

    def write_batch(
        self, items: Sequence[WriteItem], *, request_id: str | None = None
    ) -> list[QboEntryRef | SyncdError]:
        """One batch call for up to 30 creates, replayable under one requestid (``batch``)."""
        return batch.write_batch(self.calls, items, request_id=request_id, refund_item=self._refund_item)

    def ensure_accounts(self, currency: str, names: AccountNames) -> BooksAccounts:
        return accounts.ensure_accounts(self.calls, self.realm_id, currency, self.home_currency(), names)

    def recurring_templates(self) -> list[RecurringTemplate]:
        return list(recurring.read_all(self.calls, self.home_currency()))

    def update_recurring(self, change: RecurringChange, *, request_id: str) -> RecurringTemplate:
        return recurring.update(self.calls, change, request_id=request_id, home_currency=self.home_currency())

    # -- bookkeeping -------------------------------------------------------------------------

    def keep_alive(self) -> None:
        self.tokens.access_token()

    def counts(self) -> RequestCounts:
        return self.transport.counter.snapshot()

    def close(self) -> None:
        self.tokens.close()
        self.transport.close()

    def __enter__(self) -> QboConnector:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
