"""Deterministic demo company: lists, customers, invoices in every state and their payments (lazy, fast)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from connectors.quickbooks.simulator import shapes
from connectors.quickbooks.simulator.catalog import ITEMS, Catalog, company_info, preferences, seed_catalog
from connectors.quickbooks.simulator.store import RealmState
from connectors.quickbooks.simulator.wire import COMPANY_TZ, cents, currency_ref

Entity = dict[str, Any]

_FIRST = (
    "Bright",
    "Harbor",
    "Summit",
    "Cedar",
    "Maple",
    "Granite",
    "Silver",
    "Blue",
    "Golden",
    "Pine",
    "River",
    "Oak",
    "Lakeside",
    "North",
    "Prairie",
    "Coastal",
    "Willow",
    "Iron",
    "Sunset",
    "Union",
)
_SECOND = (
    "Ridge",
    "Valley",
    "Point",
    "Creek",
    "Field",
    "Bay",
    "Hill",
    "Stone",
    "Grove",
    "Park",
    "Bridge",
    "Harvest",
    "Meadow",
    "Forge",
    "Crest",
    "Haven",
    "Brook",
    "Falls",
    "Spring",
    "Gate",
)
_KIND = (
    "Dental",
    "Bakery",
    "Law Office",
    "Clinic",
    "Realty",
    "Auto Repair",
    "Cafe",
    "Accounting",
    "Fitness",
    "Veterinary",
    "Printing",
    "Florist",
)
TAX_PERCENT = Decimal("8.25")
_QTYS = tuple(Decimal(q) for q in ("1", "1", "1", "1", "2", "2", "3", "4", "5", "0.5", "1.5", "2.5"))
_MASK = (1 << 64) - 1


def _mix(x: int) -> int:
    """splitmix64's finaliser: a well-spread 64-bit word from any 64-bit input."""
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


@dataclass(frozen=True, slots=True)
class InvoiceDraw:
    """Everything random about one seeded invoice; drawn twice (seed totals, then JSON) identically."""

    customer: int
    lines: tuple[tuple[int, Decimal], ...]  # (item index, qty)
    discount_percent: Decimal
    taxable: bool
    state: str  # open | overdue | partial | paid | voided
    txn_days_ago: int
    minute: int
    paid_fraction: Decimal
    paid_days_after: int
    rate_jitter: int


class CompanySeed:
    """Builds a company of ``invoices`` invoices deterministically from ``seed``; big tables stay lazy."""

    def __init__(
        self, seed: int, invoices: int, currencies: tuple[str, ...], now: datetime, company_name: str
    ) -> None:
        if invoices < 0:
            raise ValueError("invoices must be >= 0")
        self.seed = seed
        self.n_invoices = invoices
        self.n_customers = max(3, invoices // 10)
        self.home = currencies[0] if currencies else "USD"
        self.foreign = tuple(c for c in currencies[1:] if c != self.home)
        self.now = now
        self.company_name = company_name
        self.today = now.astimezone(COMPANY_TZ).date()
        self.catalog = Catalog()
        self.cust_base = 0
        self.inv_base = 0
        self.pay_base = 0
        self._cust_currency: list[str] = []
        self._home_customers = [j for j in range(self.n_customers) if not self._is_foreign(j)]
        self._foreign_customers = [j for j in range(self.n_customers) if self._is_foreign(j)]
        self._cust_balance: list[Decimal] = []
        self._day_cache: dict[int, float] = {}
        self._latest = float(int(now.timestamp()) - 600)  # whole seconds, as entities show times
        self._brief_cache: dict[int, Entity] = {}
        self._amount_cache: dict[tuple[int, Decimal], Decimal] = {}

    # --- random draws -------------------------------------------------------------------------
    def _is_foreign(self, j: int) -> bool:
        return bool(self.foreign) and (j % 10 == 9 or j == self.n_customers - 1)

    def _customer_currency(self, j: int) -> str:
        return self.foreign[(j // 10) % len(self.foreign)] if self._is_foreign(j) else self.home

    def draw(self, i: int) -> InvoiceDraw:
        # Three splitmix64 words per invoice, sliced into fields: random access by index and ~10x
        # cheaper than a random.Random per invoice, which is what makes 100k invoices seed in seconds.
        base = (self.seed * 0x9E3779B97F4A7C15 + (i + 1) * 0xD1B54A32D192ED03) & _MASK
        a, b, c = _mix(base ^ 0x51), _mix(base ^ 0x52), _mix(base ^ 0x53)
        lines = []
        for k in range(1 + (a & 3)):
            bits = (a >> (2 + 12 * k)) & 0xFFF
            lines.append((bits % len(ITEMS), _QTYS[(bits >> 3) % len(_QTYS)]))
        r = (b & 0xFFFF) / 65536
        state = "open" if r < 0.40 else "overdue" if r < 0.55 else "partial" if r < 0.70 else "paid"
        if r >= 0.93:
            state = "voided"
        spread = (b >> 16) & 0xFF
        days = {"open": spread % 26, "overdue": 35 + spread % 86}.get(state, 3 + spread % 88)
        # Exactly one invoice in twenty is in a foreign currency (when the company has one).
        pool = self._foreign_customers if i % 20 == 7 and self._foreign_customers else self._home_customers
        return InvoiceDraw(
            customer=pool[(b >> 24) % len(pool)],
            lines=tuple(lines),
            discount_percent=Decimal(5 + 5 * ((b >> 47) & 1)) if (b >> 40) % 100 < 15 else Decimal(0),
            taxable=(b >> 48) % 10 < 3,
            state=state,
            txn_days_ago=days,
            minute=c % 480,
            paid_fraction=Decimal(20 + (c >> 9) % 51) / 100,
            paid_days_after=(c >> 16) % 3,
            rate_jitter=(c >> 20) % 401,
        )

    # --- derived amounts and times ------------------------------------------------------------
    def _day_start(self, days_ago: int) -> float:
        cached = self._day_cache.get(days_ago)
        if cached is None:
            day = self.today - timedelta(days=days_ago)
            cached = datetime(day.year, day.month, day.day, 8, 0, tzinfo=COMPANY_TZ).timestamp()
            self._day_cache[days_ago] = cached
        return cached

    def _created_ts(self, draw: InvoiceDraw) -> float:
        # Today's invoices were created before ``now``, never later in the day: a change time in the
        # future would make every CDC poll until then return them again.
        return min(self._day_start(draw.txn_days_ago) + 60 * draw.minute, self._latest)

    def _paid_ts(self, draw: InvoiceDraw) -> float:
        when = self._created_ts(draw) + 86_400 * draw.paid_days_after + 3 * 3600
        return min(when, self.now.timestamp() - 300)

    def _created(self, draw: InvoiceDraw) -> datetime:
        return datetime.fromtimestamp(self._created_ts(draw), COMPANY_TZ)

    def _paid_at(self, draw: InvoiceDraw) -> datetime:
        return datetime.fromtimestamp(self._paid_ts(draw), COMPANY_TZ)

    def _line_amount(self, item: int, qty: Decimal) -> Decimal:
        key = (item, qty)
        amount = self._amount_cache.get(key)
        if amount is None:
            amount = self._amount_cache[key] = cents(qty * ITEMS[item][1])
        return amount

    def _amounts(self, draw: InvoiceDraw) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """(subtotal, discount, tax, total)."""
        subtotal = sum((self._line_amount(k, qty) for k, qty in draw.lines), Decimal("0.00"))
        discount = cents(subtotal * draw.discount_percent / 100) if draw.discount_percent else Decimal("0.00")
        tax = cents((subtotal - discount) * TAX_PERCENT / 100) if draw.taxable else Decimal("0.00")
        return subtotal, discount, tax, subtotal - discount + tax

    def _paid_amount(self, draw: InvoiceDraw, total: Decimal) -> Decimal:
        if draw.state == "paid":
            return total
        if draw.state == "partial":
            return cents(total * draw.paid_fraction)
        return Decimal("0.00")

    def _rate(self, currency: str, draw: InvoiceDraw) -> Decimal | None:
        if currency == self.home:
            return None
        return (Decimal("0.7200") + Decimal(draw.rate_jitter) / 10_000).quantize(Decimal("0.0001"))

    # --- entity builders ----------------------------------------------------------------------
    def customer_json(self, entity_id: str) -> Entity:
        j = int(entity_id) - self.cust_base
        combos = len(_FIRST) * len(_SECOND) * len(_KIND)
        k = (j + self.seed * 37) % combos
        name = f"{_FIRST[k % 20]} {_SECOND[(k // 20) % 20]} {_KIND[(k // 400) % len(_KIND)]}"
        if j >= combos:
            name = f"{name} {j // combos + 1}"
        slug = "".join(ch for ch in name.lower() if ch.isalnum())[:24]
        created = datetime(2023, 1, 2, 9, 0, tzinfo=COMPANY_TZ) + timedelta(hours=j % 5000)
        balance = self._cust_balance[j]
        return {
            "Taxable": False,
            "BillAddr": {
                "Id": str(100_000 + j),
                "Line1": f"{100 + j % 900} Main St.",
                "City": "Middlefield",
                "CountrySubDivisionCode": "CA",
                "PostalCode": "94303",
            },
            "Job": False,
            "BillWithParent": False,
            "Balance": balance,
            "BalanceWithJobs": balance,
            "CurrencyRef": currency_ref(self._cust_currency[j]),
            "PreferredDeliveryMethod": "Email",
            **shapes.header(entity_id, 0, created),
            "GivenName": _FIRST[k % 20],
            "FamilyName": _SECOND[(k // 20) % 20],
            "FullyQualifiedName": name,
            "CompanyName": name,
            "DisplayName": name,
            "PrintOnCheckName": name,
            "Active": True,
            "PrimaryPhone": {"FreeFormNumber": f"(555) {100 + j % 900:03d}-{j % 10_000:04d}"},
            "PrimaryEmailAddr": {"Address": f"billing+{j}@{slug}.example.com"},
        }

    def _brief(self, j: int) -> Entity:
        """The customer fields an invoice or payment copies; cached, as thousands share few customers."""
        brief = self._brief_cache.get(j)
        if brief is None:
            full = self.customer_json(str(self.cust_base + j))
            keys = ("Id", "DisplayName", "BillAddr", "PrimaryEmailAddr", "CurrencyRef")
            brief = {key: full[key] for key in keys}
            if len(self._brief_cache) >= 4096:
                self._brief_cache.clear()
            self._brief_cache[j] = brief
        return brief

    def invoice_json(self, entity_id: str) -> Entity:
        i = int(entity_id) - self.inv_base
        draw = self.draw(i)
        customer = self._brief(draw.customer)
        subtotal, discount, tax, total = self._amounts(draw)
        created = self._created(draw)
        lines: list[Entity] = []
        for n, (k, qty) in enumerate(draw.lines, start=1):
            item = self.catalog.items[k]
            lines.append(shapes.sales_line(n, item, ITEMS[k][2], qty, ITEMS[k][1], draw.taxable))
        lines.append(shapes.subtotal_line(subtotal))
        if discount:
            lines.append(
                shapes.discount_line(discount, draw.discount_percent, self.catalog.accounts["discount"])
            )
        paid = self._paid_amount(draw, total)
        linked: list[dict[str, str]] = []
        updated = created
        note = None
        balance = total - paid
        if paid:
            linked.append({"TxnId": str(self.pay_base + i), "TxnType": "Payment"})
            updated = self._paid_at(draw)
        if draw.state == "voided":
            for line in lines:
                line["Amount"] = Decimal("0.00")
            total = balance = Decimal("0.00")
            tax_json = shapes.tax_detail(Decimal(0), Decimal(0), TAX_PERCENT, self.catalog.tax_code_id)
            # A day in seconds, as the change index counts it (a wall-clock day is 23 h over DST).
            voided_at = min(self._created_ts(draw) + 86_400, self.now.timestamp())
            updated, note = datetime.fromtimestamp(voided_at, COMPANY_TZ), "Voided"
        else:
            tax_json = shapes.tax_detail(tax, subtotal - discount, TAX_PERCENT, self.catalog.tax_code_id)
        txn = created.date()
        return shapes.invoice(
            entity_id=entity_id,
            sync_token=1 if (paid or note) else 0,
            created=created,
            updated=min(updated, self.now),
            doc_number=str(1001 + i),
            txn_date=txn.isoformat(),
            due_date=(txn + timedelta(days=30)).isoformat(),
            customer=customer,
            lines=lines,
            total_tax=tax_json,
            total=total,
            balance=balance,
            exchange_rate=self._rate(self._cust_currency[draw.customer], draw),
            linked=linked,
            private_note=note,
        )

    def payment_json(self, entity_id: str) -> Entity:
        i = int(entity_id) - self.pay_base
        draw = self.draw(i)
        customer = self._brief(draw.customer)
        total = self._amounts(draw)[3]
        amount = self._paid_amount(draw, total)
        when = self._paid_at(draw)
        line = shapes.payment_line(amount, str(self.inv_base + i), total, str(1001 + i))
        return shapes.payment(
            entity_id=entity_id,
            sync_token=0,
            created=when,
            updated=when,
            txn_date=when.date().isoformat(),
            customer=customer,
            total=amount,
            lines=[line],
            deposit_to=self.catalog.accounts["undeposited"],
            exchange_rate=self._rate(self._cust_currency[draw.customer], draw),
            payment_method=self.catalog.accounts["check"],
            ref_num=str(5000 + i),
        )

    # --- the whole company --------------------------------------------------------------------
    def build(self, state: RealmState) -> None:
        self.catalog = seed_catalog(state, self.home, self.foreign)
        self._cust_currency = [self._customer_currency(j) for j in range(self.n_customers)]
        self._cust_balance = [Decimal("0.00")] * self.n_customers
        self.cust_base = state.next_id
        self.inv_base = self.cust_base + self.n_customers
        self.pay_base = self.inv_base + self.n_invoices
        state.next_id = self.pay_base + self.n_invoices

        inv_mtimes: list[float] = []
        pay_ids: list[str] = []
        pay_mtimes: list[float] = []
        for i in range(self.n_invoices):
            draw = self.draw(i)
            created = self._created_ts(draw)
            if draw.state == "voided":
                inv_mtimes.append(min(created + 86_400, self.now.timestamp()))
                continue
            total = self._amounts(draw)[3]
            paid = self._paid_amount(draw, total)
            self._cust_balance[draw.customer] += total - paid
            if paid:
                at = self._paid_ts(draw)
                inv_mtimes.append(at)
                pay_ids.append(str(self.pay_base + i))
                pay_mtimes.append(at)
            else:
                inv_mtimes.append(created)
        cust_ids = [str(self.cust_base + j) for j in range(self.n_customers)]
        base_time = datetime(2023, 1, 2, 9, 0, tzinfo=COMPANY_TZ).timestamp()
        state.table("Customer").seed_lazy(
            cust_ids, [base_time + 3600 * (j % 5000) for j in range(self.n_customers)], self.customer_json
        )
        inv_ids = [str(self.inv_base + i) for i in range(self.n_invoices)]
        state.table("Invoice").seed_lazy(inv_ids, inv_mtimes, self.invoice_json)
        state.table("Payment").seed_lazy(pay_ids, pay_mtimes, self.payment_json)


def build_realm(
    realm_id: str,
    *,
    seed: int,
    invoices: int,
    currencies: tuple[str, ...],
    now: datetime,
    company_name: str = "Northwind IT Services",
) -> tuple[RealmState, CompanySeed]:
    home = currencies[0] if currencies else "USD"
    created = datetime(2023, 1, 1, 9, 0, tzinfo=COMPANY_TZ)
    state = RealmState(
        realm_id, company_info(realm_id, company_name, home, created), preferences(home, currencies, created)
    )
    company = CompanySeed(seed, invoices, currencies, now, company_name)
    company.build(state)
    return state, company
