"""The tables, one module per area; importing this package declares every one on ``Base.metadata``.

Every change here needs an Alembic revision in ``syncd/store/migrations/versions/``; a new area
gets its own module here and one import line below.
"""

from __future__ import annotations

from syncd.store.models.autopay import AutopayCharge, AutopayEnrollment, AutopayLink
from syncd.store.models.card_holds import CardAuthorizationRow
from syncd.store.models.collections import (
    CollectionAccount,
    CollectionActivity,
    DisputedInvoice,
    OfflinePayment,
    PaymentPromise,
    WriteOff,
)
from syncd.store.models.company import (
    BooksAccount,
    Company,
    ConnectAttempt,
    Cursor,
    Lease,
    NamedPerCompany,
    Secret,
)
from syncd.store.models.customer_accounts import AccountSession, AccountToken, Passkey
from syncd.store.models.ledger import CreditHold, EntryReview, MoneyMovement, PaymentRow
from syncd.store.models.mirror import LINK_OF_INVOICE, CustomerRow, InvoiceRow, PortalLink
from syncd.store.models.plans import InstallmentPlan, PlanInstallment
from syncd.store.models.queues import Effect, InboxEvent
from syncd.store.models.recurring import RecurringLink, RecurringRow
from syncd.store.models.saved_methods import CardRequest, MethodConsent, SavedMethodRow
from syncd.store.models.sms import TextNumber, TextRow
from syncd.store.models.staff import (
    StaffAction,
    StaffMembership,
    StaffRole,
    StaffSession,
    StaffSignInAttempt,
    StaffUser,
)
from syncd.store.models.staff_passkeys import StaffPasskey, StaffPasskeyChallenge
from syncd.store.models.types import (
    NAMING,
    Amount,
    Base,
    DecimalAmount,
    UtcDateTime,
)

__all__ = [
    "LINK_OF_INVOICE",
    "NAMING",
    "AccountSession",
    "AccountToken",
    "Amount",
    "AutopayCharge",
    "AutopayEnrollment",
    "AutopayLink",
    "Base",
    "BooksAccount",
    "CardAuthorizationRow",
    "CardRequest",
    "CollectionAccount",
    "CollectionActivity",
    "Company",
    "ConnectAttempt",
    "CreditHold",
    "Cursor",
    "CustomerRow",
    "DecimalAmount",
    "DisputedInvoice",
    "Effect",
    "EntryReview",
    "InboxEvent",
    "InstallmentPlan",
    "InvoiceRow",
    "Lease",
    "MethodConsent",
    "MoneyMovement",
    "NamedPerCompany",
    "OfflinePayment",
    "Passkey",
    "PaymentPromise",
    "PaymentRow",
    "PlanInstallment",
    "PortalLink",
    "RecurringLink",
    "RecurringRow",
    "SavedMethodRow",
    "Secret",
    "StaffAction",
    "StaffMembership",
    "StaffPasskey",
    "StaffPasskeyChallenge",
    "StaffRole",
    "StaffSession",
    "StaffSignInAttempt",
    "StaffUser",
    "TextNumber",
    "TextRow",
    "UtcDateTime",
    "WriteOff",
]
