"""The mirror, ledger, books and customer-account tables (revisions 0001 to 0012)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from syncd.store.models.types import Amount, Base, UtcDateTime


class Company(Base):
    __tablename__ = "companies"

    realm_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    home_currency: Mapped[str | None] = mapped_column(String(3))
    timezone: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="active")
    status_reason: Mapped[str | None] = mapped_column(Text)
    # Why a person is needed: the refused credential (``errors.Credential``), when, and a digest of
    # the credential as it was then, so syncd resumes by itself once it changed.
    pause_credential: Mapped[str | None] = mapped_column(String(32))
    paused_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    pause_fingerprint: Mapped[str | None] = mapped_column(String(64))
    last_pull_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # When notify settled the open invoices the company had at its first sync (``first_sync``);
    # None until then, so only that one pass treats what it finds as backlog.
    first_sync_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class NamedPerCompany:
    """A value kept per company under a name and overwritten in place (secrets, cursors)."""

    # The key first and updated_at last, in the order the tables were created (0001).
    company_id: Mapped[str] = mapped_column(String(32), primary_key=True, sort_order=-1)
    name: Mapped[str] = mapped_column(String(64), primary_key=True, sort_order=-1)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), sort_order=1)


class Secret(NamedPerCompany, Base):
    """Encrypted at rest (Fernet); ``name`` is e.g. ``qbo_tokens``."""

    __tablename__ = "secrets"

    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    version: Mapped[int] = mapped_column(Integer, default=1)


class ConnectAttempt(Base):
    """A ``syncd connect quickbooks`` waiting for its OAuth redirect, which the running daemon may
    receive: the state is kept hashed; the daemon records the connected realm or the error."""

    __tablename__ = "connect_attempts"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    realm_id: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Cursor(NamedPerCompany, Base):
    __tablename__ = "cursors"

    value: Mapped[str] = mapped_column(Text)


class BooksAccount(Base):
    """A QBO account (or vendor, or payment method) the books post to in one currency, by role:
    found or created once by account setup (``store.books_accounts``), then read from here."""

    __tablename__ = "books_accounts"

    company_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    qbo_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Lease(Base):
    """A named lock with an expiry: company ownership, token refresh. Survives nothing but time."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CustomerRow(Base):
    __tablename__ = "customers"

    company_id: Mapped[str] = mapped_column(String(32), ForeignKey("companies.realm_id"), primary_key=True)
    qbo_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    mobile: Mapped[str | None] = mapped_column(String(64))  # 0017: QBO's Mobile, for attested texts


class InvoiceRow(Base):
    __tablename__ = "invoices"
    __table_args__ = (Index("ix_invoices_company_status", "company_id", "status"),)

    company_id: Mapped[str] = mapped_column(String(32), ForeignKey("companies.realm_id"), primary_key=True)
    qbo_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    doc_number: Mapped[str] = mapped_column(String(64), default="")
    customer_id: Mapped[str] = mapped_column(String(32))
    customer_name: Mapped[str] = mapped_column(String(500), default="")
    currency: Mapped[str] = mapped_column(String(3))
    txn_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    total: Mapped[Decimal] = mapped_column(Amount())
    balance: Mapped[Decimal] = mapped_column(Amount())
    tax: Mapped[Decimal] = mapped_column(Amount())
    lines: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    sync_token: Mapped[str] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(320))
    memo: Mapped[str | None] = mapped_column(Text)
    qbo_updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    mirrored_at: Mapped[datetime] = mapped_column(UtcDateTime())


class PortalLink(Base):
    """A link is an HMAC of (company, invoice): only its SHA-256 is stored, for lookup."""

    __tablename__ = "portal_links"
    __table_args__ = (UniqueConstraint("company_id", "invoice_id"),)

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    company_id: Mapped[str] = mapped_column(String(32))
    invoice_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    notified_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The latest reminder step (days after due) a customer message covered or the first sync
    # skipped; a step is sent only when it is later than this.
    reminded_step: Mapped[int | None] = mapped_column(Integer)


# An invoice joined to its portal link (at most one: company and invoice are unique together).
LINK_OF_INVOICE = (PortalLink.company_id == InvoiceRow.company_id) & (
    PortalLink.invoice_id == InvoiceRow.qbo_id
)


class PaymentRow(Base):
    """One attempt to pay (a Checkout Session), keyed by syncd's payment key."""

    __tablename__ = "payments"
    __table_args__ = (
        Index("ix_payments_intent", "payment_intent_id"),
        Index("ix_payments_session", "checkout_session_id"),
        Index("ix_payments_company_status", "company_id", "status"),
    )

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    company_id: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[str] = mapped_column(String(32))
    invoice_ids: Mapped[list[str]] = mapped_column(JSON)
    amount: Mapped[Decimal] = mapped_column(Amount())
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    checkout_session_id: Mapped[str | None] = mapped_column(String(128))
    checkout_url: Mapped[str | None] = mapped_column(Text)
    payment_intent_id: Mapped[str | None] = mapped_column(String(128))
    method: Mapped[str | None] = mapped_column(String(32))
    # What its Checkout Session offers: a session offering bank debit is not reused on credit hold.
    offered_methods: Mapped[list[str] | None] = mapped_column(JSON)
    qbo_payment_id: Mapped[str | None] = mapped_column(String(32))
    failure: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CreditHold(Base):
    """A customer who may no longer pay by bank debit, until staff release them. One row per hold
    ever placed; ``seq`` numbers a customer's holds (1 for the first), so two placements racing
    for the same hold collide on the key."""

    __tablename__ = "credit_holds"

    company_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    placed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    strikes_at_placement: Mapped[int] = mapped_column(Integer)
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # All the customer's strikes when released: only strikes after it count towards a new hold.
    strikes_at_release: Mapped[int | None] = mapped_column(Integer)


class MoneyMovement(Base):
    """A Stripe balance transaction and the QBO entry syncd made for it."""

    __tablename__ = "money_movements"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    company_id: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str | None] = mapped_column(String(128))
    amount: Mapped[Decimal] = mapped_column(Amount())
    fee: Mapped[Decimal] = mapped_column(Amount())
    net: Mapped[Decimal] = mapped_column(Amount())
    currency: Mapped[str] = mapped_column(String(3))
    created: Mapped[datetime] = mapped_column(UtcDateTime())
    payout_id: Mapped[str | None] = mapped_column(String(128))
    qbo_entries: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)


class InboxEvent(Base):
    """Raw webhook bodies, stored before answering 2xx; deduplicated by (source, event_id)."""

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("source", "event_id"),
        Index("ix_inbox_pending", "processed_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(128))
    company_id: Mapped[str | None] = mapped_column(String(32))
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class Effect(Base):
    """The outbox: a remote side effect, recorded before it happens, performed under its key."""

    __tablename__ = "effects"
    __table_args__ = (
        Index("ix_effects_due", "status", "priority", "next_attempt_at"),
        Index("ix_effects_serial", "serial_group", "status"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(64))
    priority: Mapped[int] = mapped_column(Integer, default=5)
    company_id: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, object]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    remote_id: Mapped[str | None] = mapped_column(String(128))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Effects of one group (one customer's invoices and credit) run one after another.
    serial_group: Mapped[str | None] = mapped_column(String(200))
    # When a must-book effect first met an error it cannot outwait (listed until it is done).
    held_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class EntryReview(Base):
    """A QBO Payment syncd wrote that someone deleted, voided or changed in QBO: its invoices are
    not offered for payment until staff rebook the entry or release them. One row per entry ever
    flagged, so a re-read of the same change flags nothing twice."""

    __tablename__ = "entry_reviews"

    company_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    qbo_payment_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    payment_key: Mapped[str] = mapped_column(String(128))
    payment_intent_id: Mapped[str | None] = mapped_column(String(128))
    invoice_ids: Mapped[list[str]] = mapped_column(JSON)
    amount: Mapped[Decimal] = mapped_column(Amount())
    currency: Mapped[str] = mapped_column(String(3))
    change: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    detected_at: Mapped[datetime] = mapped_column(UtcDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class SavedMethodRow(Base):
    """A card or bank account a customer keeps at Stripe, as the payment-method events told us
    (no card data: brand, last 4, expiry, bank name). ``detached_at`` once it is removed."""

    __tablename__ = "saved_methods"
    __table_args__ = (Index("ix_saved_methods_customer", "company_id", "qbo_customer_id"),)

    payment_method_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    company_id: Mapped[str] = mapped_column(String(32))
    qbo_customer_id: Mapped[str] = mapped_column(String(32))
    stripe_customer_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    brand: Mapped[str | None] = mapped_column(String(32))
    last4: Mapped[str] = mapped_column(String(4))
    exp_month: Mapped[int | None] = mapped_column(Integer)
    exp_year: Mapped[int | None] = mapped_column(Integer)
    bank_name: Mapped[str | None] = mapped_column(String(200))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    attached_at: Mapped[datetime] = mapped_column(UtcDateTime())
    detached_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class MethodConsent(Base):
    """What a customer agreed to when saving a method: the exact text shown, when, from where.
    ``reference`` is the card request's or payment's key; ``payment_method_id`` once known."""

    __tablename__ = "method_consents"
    __table_args__ = (Index("ix_method_consents_customer", "company_id", "qbo_customer_id"),)

    reference: Mapped[str] = mapped_column(String(200), primary_key=True)
    company_id: Mapped[str] = mapped_column(String(32))
    qbo_customer_id: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    consented_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    payment_method_id: Mapped[str | None] = mapped_column(String(64))


class CardRequest(Base):
    """A "put a card on file" link sent to a customer: only the SHA-256 of its token is kept."""

    __tablename__ = "card_requests"
    __table_args__ = (UniqueConstraint("request_key"),)

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    request_key: Mapped[str] = mapped_column(String(200))
    company_id: Mapped[str] = mapped_column(String(32))
    qbo_customer_id: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # The setup-mode Checkout of the latest click (``attempts`` numbers them for their keys).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    checkout_session_id: Mapped[str | None] = mapped_column(String(128))
    checkout_url: Mapped[str | None] = mapped_column(Text)
    checkout_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    payment_method_id: Mapped[str | None] = mapped_column(String(64))


class AccountToken(Base):
    """A single-use secret of the customer account: an emailed sign-in link (``kind`` "email") or
    a passkey challenge. Only its SHA-256 is kept; ``browser`` is the digest of the cookie of the
    browser that asked, so the link works there only. Rows are also the rate-limit ledger."""

    __tablename__ = "account_tokens"
    __table_args__ = (
        Index("ix_account_tokens_email", "kind", "email", "created_at"),
        Index("ix_account_tokens_ip", "kind", "ip_digest", "created_at"),
    )

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    email: Mapped[str | None] = mapped_column(String(320))
    ip_digest: Mapped[str | None] = mapped_column(String(64))
    browser: Mapped[str | None] = mapped_column(String(64))
    # Whom a sign-in link is for (None: no QBO customer has the address; nothing was sent).
    known: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class AccountSession(Base):
    """A signed-in browser, keyed by the SHA-256 of its cookie. ``email`` is the person (signed
    in by link or passkey); ``scope_*`` pins a session opened from one invoice link to that one
    customer. ``company_id``/``customer_id`` is the account being looked at."""

    __tablename__ = "account_sessions"
    __table_args__ = (Index("ix_account_sessions_email", "email"),)

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320))
    scope_company_id: Mapped[str | None] = mapped_column(String(32))
    scope_customer_id: Mapped[str | None] = mapped_column(String(32))
    company_id: Mapped[str | None] = mapped_column(String(32))
    customer_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Passkey(Base):
    """A WebAuthn credential a person registered; it signs in as ``email``."""

    __tablename__ = "passkeys"
    __table_args__ = (Index("ix_passkeys_email", "email"),)

    credential_id: Mapped[str] = mapped_column(String(400), primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
