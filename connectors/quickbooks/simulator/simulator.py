"""QboSimulator: a seeded QuickBooks Online company served over HTTP, with helpers tests and the demo use."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from connectors.lifecycle import Served
from connectors.quickbooks.simulator.app import DISCOVERY_PATH, Runtime, build_app
from connectors.quickbooks.simulator.books import Books
from connectors.quickbooks.simulator.company import SimCompany
from connectors.quickbooks.simulator.faults import Faults
from connectors.quickbooks.simulator.limits import Limits
from connectors.quickbooks.simulator.oauth import TokenAuthority
from connectors.quickbooks.simulator.seed import build_realm
from connectors.quickbooks.simulator.store import canonical_entity
from connectors.quickbooks.simulator.webhooks import WebhookSender
from connectors.quickbooks.simulator.wire import money
from connectors.serving import ThreadedServer


def _utc_now() -> datetime:
    return datetime.now(UTC)


class QboSimulator(Served):
    """A real HTTP server speaking QBO v3 + Intuit OAuth for one (or more) seeded companies.

    Point python-quickbooks' ``api_url_v3`` at :attr:`api_base_url` and intuit-oauth's ``environment``
    at :attr:`discovery_url` (plain http: set ``OAUTHLIB_INSECURE_TRANSPORT=1`` for the SDK session).
    Everything runs on the ``now`` clock: token expiry, the 60 s limit windows, CDC's 30 days.

    Where real QBO is unknown or unmodelled, the simulator chooses, and says so here:
    - ``requestid`` replay keeps only 200 answers (the last 20,000 per company); a refused write
      creates nothing, so repeating it fails the same way anyway.
    - A ``timeout`` fault commits a write *before* hanging and answering 504, as a gateway timeout
      in front of a committed write would; retrying with the same ``requestid`` returns it once.
    - Invoices with payments applied cannot be voided or deleted (fault 6480): void/delete the
      payments first. Lists (Account, Customer, Vendor, Item...) cannot be deleted (make inactive).
    - CDC returns the oldest changes first, capped at 1000 per entity: page by the last
      ``LastUpdatedTime`` seen. Query results default to Id order; ``totalCount`` is always given.
    - No ``id_token`` in token responses (it needs the openid scope and Intuit's signing keys).
    """

    def __init__(
        self,
        seed: int = 0,
        invoices: int = 20,
        realm_id: str = "9130350000000001",
        client_id: str = "sim-client",
        client_secret: str = "sim-secret",  # noqa: S107 - a simulator default, not a secret
        verifier_token: str = "sim-verifier",  # noqa: S107
        webhook_url: str | None = None,
        currencies: tuple[str, ...] = ("USD", "CAD"),
        now: Callable[[], datetime] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_format: str = "legacy",
        company_name: str = "Northwind IT Services",
    ) -> None:
        self.seed = seed
        self.realm_id = realm_id
        self.currencies = tuple(currencies) or ("USD",)
        self._now = now or _utc_now
        self._host = host
        self._port = port
        self._webhook_url = webhook_url
        self._url_lock = threading.Lock()
        self.authority = TokenAuthority(client_id, client_secret, self._now)
        self.faults = Faults(seed, expire_tokens=self.authority.expire_access_tokens)
        self.limits = Limits()
        self.webhooks = WebhookSender(self._current_webhook_url, verifier_token, webhook_format)
        self._companies: dict[str, SimCompany] = {}
        self._server: ThreadedServer | None = None
        self._runtime = Runtime(
            self._companies, self.authority, self.limits, self.faults, self._now, lambda: self.url, realm_id
        )
        self.add_company(realm_id, seed=seed, invoices=invoices, company_name=company_name)

    # --- lifecycle ----------------------------------------------------------------------------
    def add_company(
        self, realm_id: str, *, seed: int = 0, invoices: int = 20, company_name: str = "Northwind IT Services"
    ) -> SimCompany:
        """Seed another company (realm) served by the same server and OAuth app."""
        state, company_seed = build_realm(
            realm_id,
            seed=seed,
            invoices=invoices,
            currencies=self.currencies,
            now=self._now(),
            company_name=company_name,
        )
        state.listeners.append(self.webhooks.notify)
        company = SimCompany(state, Books(state, self._now, self.currencies), company_seed)
        self._companies[realm_id] = company
        return company

    def start(self) -> QboSimulator:
        if self._server is None:
            self._runtime.stopping.clear()
            self._server = ThreadedServer(build_app(self._runtime), self._host, self._port).start()
            self.webhooks.start()
        return self

    def stop(self) -> None:
        self._runtime.stopping.set()
        if self._server is not None:
            self._server.stop()
            self._server = None
        self.webhooks.stop()

    # --- addresses and tokens -----------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not started")
        return self._server.url

    @property
    def api_base_url(self) -> str:
        return self.url + "/v3"

    @property
    def discovery_url(self) -> str:
        return self.url + DISCOVERY_PATH

    @property
    def authorize_url(self) -> str:
        return self.url + "/connect/oauth2"

    def mint_tokens(self, realm_id: str | None = None) -> dict[str, Any]:
        """A fresh token response, exactly as the token endpoint would answer it."""
        realm = realm_id or self.realm_id
        if realm not in self._companies:
            raise KeyError(realm)
        return self.authority.mint(realm)

    def set_webhook_url(self, url: str | None) -> None:
        with self._url_lock:
            self._webhook_url = url

    def _current_webhook_url(self) -> str | None:
        with self._url_lock:
            return self._webhook_url

    def counts(self, realm_id: str | None = None) -> dict[str, int]:
        company = self._company(realm_id)
        with company.counts_lock:
            return dict(company.counts)

    def reset_limits(self) -> None:
        self.limits.reset()

    # --- bookkeeper actions (as if done in the QBO UI) ----------------------------------------
    def _company(self, realm_id: str | None = None) -> SimCompany:
        return self._companies[realm_id or self.realm_id]

    def record_offline_payment(
        self, invoice_id: str, amount: Decimal, *, realm_id: str | None = None, reference: str = "CHK"
    ) -> str:
        """A check received and applied to the invoice; fires the webhook like any change."""
        company = self._company(realm_id)
        with company.state.lock:
            invoice = company.books.read("Invoice", invoice_id)
            body: dict[str, Any] = {
                "CustomerRef": {"value": invoice["CustomerRef"]["value"]},
                "CurrencyRef": {"value": invoice["CurrencyRef"]["value"]},
                "TotalAmt": money(amount),
                "PaymentRefNum": reference,
                "Line": [
                    {"Amount": money(amount), "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}
                ],
            }
            if "ExchangeRate" in invoice:
                body["ExchangeRate"] = invoice["ExchangeRate"]
            check = self._find(company, "PaymentMethod", "Check")
            if check is not None:
                body["PaymentMethodRef"] = {"value": check}
            return str(company.books.create("Payment", body)["Id"])

    def void_invoice(self, invoice_id: str, *, realm_id: str | None = None) -> None:
        company = self._company(realm_id)
        with company.state.lock:
            row = company.books.read("Invoice", invoice_id)
            company.books.void("Invoice", {"Id": invoice_id, "SyncToken": row["SyncToken"]})

    def update_invoice(self, invoice_id: str, *, realm_id: str | None = None, **changes: Any) -> None:
        self.update_entity("Invoice", invoice_id, realm_id=realm_id, **changes)

    def update_entity(
        self, name: str, entity_id: str, *, realm_id: str | None = None, **changes: Any
    ) -> None:
        """A bookkeeper's sparse edit of any entity, as QBO would apply it."""
        company = self._company(realm_id)
        with company.state.lock:
            row = company.books.read(name, entity_id)
            company.books.update(
                name, {"Id": entity_id, "SyncToken": row["SyncToken"], "sparse": True, **changes}
            )

    def create_entity(self, name: str, body: dict[str, Any], *, realm_id: str | None = None) -> str:
        """A bookkeeper's new entry (a Deposit, a copied Transfer…), as QBO would take it; its Id."""
        company = self._company(realm_id)
        with company.state.lock:
            return str(company.books.create(name, copy.deepcopy(body))["Id"])

    def delete_invoice(self, invoice_id: str, *, realm_id: str | None = None) -> None:
        self.delete_entity("Invoice", invoice_id, realm_id=realm_id)

    def delete_entity(self, name: str, entity_id: str, *, realm_id: str | None = None) -> None:
        """A bookkeeper deleting a transaction (an Invoice, a Payment…) in the QBO UI."""
        company = self._company(realm_id)
        with company.state.lock:
            row = company.books.read(name, entity_id)
            company.books.delete(name, {"Id": entity_id, "SyncToken": row["SyncToken"]})

    def void_entity(self, name: str, entity_id: str, *, realm_id: str | None = None) -> None:
        """A bookkeeper voiding a transaction (an Invoice, a Payment) in the QBO UI."""
        company = self._company(realm_id)
        with company.state.lock:
            row = company.books.read(name, entity_id)
            company.books.void(name, {"Id": entity_id, "SyncToken": row["SyncToken"]})

    def add_invoice(
        self,
        customer_id: str | None = None,
        amount: Decimal = Decimal("100.00"),
        *,
        realm_id: str | None = None,
        due_date: date | None = None,
        doc_number: str | None = None,
        description: str = "Services",
        email: str | None = None,
    ) -> str:
        """A one-line invoice for ``customer_id`` (default: the first customer); returns its Id."""
        company = self._company(realm_id)
        with company.state.lock:
            customers = company.state.table("Customer")
            customer_id = customer_id or customers.ids()[0]
            item = company.state.table("Item").ids()[0]
            today = self._now().date()
            body: dict[str, Any] = {
                "CustomerRef": {"value": customer_id},
                "Line": [
                    {
                        "Amount": money(amount),
                        "Description": description,
                        "DetailType": "SalesItemLineDetail",
                        "SalesItemLineDetail": {
                            "ItemRef": {"value": item},
                            "Qty": 1,
                            "UnitPrice": money(amount),
                        },
                    }
                ],
                "TxnDate": today.isoformat(),
                "DueDate": (due_date or today + timedelta(days=30)).isoformat(),
            }
            if doc_number is not None:
                body["DocNumber"] = doc_number
            if email is not None:
                body["BillEmail"] = {"Address": email}
            return str(company.books.create("Invoice", body)["Id"])

    def add_recurring(
        self,
        customer_id: str | None = None,
        amount: Decimal = Decimal("50.00"),
        *,
        start: date,
        realm_id: str | None = None,
        name: str = "Monthly monitoring",
        interval: str = "Monthly",
        every: int = 1,
        end_date: date | None = None,
        max_occurrences: int | None = None,
        active: bool = True,
        recur_type: str = "Automated",
        description: str = "Monitoring",
    ) -> str:
        """A bookkeeper's recurring invoice template (RecurringTransaction) for ``customer_id``
        (default: the first customer), first billing on ``start``; returns its Id."""
        company = self._company(realm_id)
        with company.state.lock:
            customer_id = customer_id or company.state.table("Customer").ids()[0]
            item = company.state.table("Item").ids()[0]
            schedule: dict[str, Any] = {
                "IntervalType": interval,
                "NumInterval": every,
                "StartDate": start.isoformat(),
                "NextDate": start.isoformat(),
            }
            if interval in ("Monthly", "Yearly"):
                schedule["DayOfMonth"] = start.day
            if end_date is not None:
                schedule["EndDate"] = end_date.isoformat()
            if max_occurrences is not None:
                schedule["MaxOccurrences"] = max_occurrences
            body: dict[str, Any] = {
                "CustomerRef": {"value": customer_id},
                "Line": [
                    {
                        "Amount": money(amount),
                        "Description": description,
                        "DetailType": "SalesItemLineDetail",
                        "SalesItemLineDetail": {
                            "ItemRef": {"value": item},
                            "Qty": 1,
                            "UnitPrice": money(amount),
                        },
                    }
                ],
                "RecurringInfo": {
                    "Name": name,
                    "RecurType": recur_type,
                    "Active": active,
                    "ScheduleInfo": schedule,
                },
            }
            return str(company.recurring.create(body)["Id"])

    def run_recurring(self, *, realm_id: str | None = None) -> list[str]:
        """Make the invoices now due from recurring templates (any API call does it too); their Ids."""
        company = self._company(realm_id)
        with company.state.lock:
            return company.recurring.run()

    # --- raw state for assertions -------------------------------------------------------------
    def entity(self, name: str, entity_id: str, *, realm_id: str | None = None) -> dict[str, Any] | None:
        company = self._company(realm_id)
        canonical = canonical_entity(name)
        if canonical is None:
            raise KeyError(name)
        with company.state.lock:
            row = company.state.table(canonical).get(str(entity_id))
            return copy.deepcopy(row) if row is not None else None

    def entities(self, name: str, *, realm_id: str | None = None) -> list[dict[str, Any]]:
        company = self._company(realm_id)
        canonical = canonical_entity(name)
        if canonical is None:
            raise KeyError(name)
        with company.state.lock:
            return [copy.deepcopy(row) for row in company.state.table(canonical).rows()]

    @staticmethod
    def _find(company: SimCompany, name: str, label: str) -> str | None:
        for row in company.state.table(name).rows():
            if row.get("Name") == label or row.get("DisplayName") == label:
                return str(row["Id"])
        return None
