"""The effect catalog: every effect kind declared once — payload (with its key builder), priority,
serial group, handler, and whether it must not fail. Enqueue, the worker and the audit read it."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from syncd.catalog import payloads as p
from syncd.catalog import payloads_authorizations as pa
from syncd.catalog import payloads_autopay as pu
from syncd.catalog import payloads_email as pe
from syncd.catalog.kinds import EffectKind, Serial, kind_of
from syncd.catalog.payloads import PAYLOADS, Payload
from syncd.catalog.payloads_authorizations import AUTHORIZATION_PAYLOADS
from syncd.catalog.payloads_autopay import AUTOPAY_PAYLOADS
from syncd.catalog.payloads_batch import EntryBatch
from syncd.catalog.payloads_email import EMAIL_PAYLOADS
from syncd.catalog.payloads_plans import PLAN_PAYLOADS, PlanCharge, PlanEmail
from syncd.catalog.payloads_writeoff import WriteOffBooking

PAYLOADS.update({cls.KIND: cls for cls in (*EMAIL_PAYLOADS, *AUTOPAY_PAYLOADS, *PLAN_PAYLOADS)})

# Money first: a payer is waiting on a checkout, and the books should show a payment within
# seconds even right after a first pull queued thousands of invoice emails.
MONEY = 0
PAYER = 1  # emails a payer is waiting for
BOOKS = 2
STAFF = 3
LATER = 5


@dataclass(frozen=True, slots=True)
class Spec:
    """One kind's entry. ``handler`` and ``on_held`` are ``module:function`` names, resolved once
    when the worker starts (a test resolves them all). With ``on_held`` the kind must not fail:
    the worker holds it instead and calls the hook the first time (see ``syncd.worker``)."""

    payload: type[Payload]
    handler: str
    priority: int
    group: Serial | None = None
    on_held: str | None = None


_STAGES = "syncd.stages"
_BOOKS = "syncd.stages.books"
_PAYMENT_EMAIL = f"{_STAGES}.confirm:send_payment_email"

SPECS: dict[EffectKind, Spec] = {
    EffectKind.STRIPE_CHECKOUT: Spec(p.StripeCheckout, f"{_STAGES}.collect:create_checkout", MONEY),
    EffectKind.STRIPE_EXPIRE_CHECKOUT: Spec(p.ExpireCheckout, f"{_STAGES}.checkouts:expire_checkout", MONEY),
    EffectKind.STRIPE_SETUP_CHECKOUT: Spec(
        p.SetupCheckout, f"{_STAGES}.card_requests:create_setup_checkout", MONEY
    ),
    EffectKind.STRIPE_DEFAULT_METHOD: Spec(
        p.DefaultMethod, f"{_STAGES}.saved_methods:set_default", MONEY, Serial.METHODS
    ),
    EffectKind.STRIPE_DETACH_METHOD: Spec(
        p.DetachMethod, f"{_STAGES}.saved_methods:detach", MONEY, Serial.METHODS
    ),
    EffectKind.STRIPE_AUTOPAY_CHARGE: Spec(
        pu.AutopayCharge, f"{_STAGES}.autopay_charges:charge", MONEY, Serial.MONEY
    ),
    EffectKind.QBO_PAYMENT: Spec(
        p.QboPayment,
        f"{_STAGES}.reconcile:record_payment",
        MONEY,
        Serial.MONEY,
        on_held=f"{_BOOKS}.charges:tell_staff_unbooked",  # a charge Stripe took must reach the books
    ),
    EffectKind.QBO_VOID: Spec(p.QboVoid, f"{_BOOKS}.returns:void_returned_payment", MONEY, Serial.MONEY),
    EffectKind.QBO_FEE: Spec(p.QboFee, f"{_BOOKS}.fees:record_fee", BOOKS),
    EffectKind.QBO_REFUND: Spec(p.QboRefund, f"{_BOOKS}.refunds:record_refund", BOOKS, Serial.MONEY),
    EffectKind.QBO_REFUND_FAILED: Spec(
        p.QboRefundFailed, f"{_BOOKS}.refund_failures:record_refund_failure", BOOKS, Serial.MONEY
    ),
    EffectKind.QBO_DISPUTE: Spec(p.QboDispute, f"{_BOOKS}.disputes:record_dispute_txn", BOOKS),
    EffectKind.QBO_PAYOUT: Spec(p.QboPayout, f"{_BOOKS}.payouts:record_payout", BOOKS),
    EffectKind.QBO_CUSTOMER_CONTACT: Spec(p.CustomerContact, f"{_STAGES}.account:write_contact", BOOKS),
    EffectKind.QBO_INVOICE_LINKS: Spec(p.InvoiceLinks, f"{_STAGES}.link_writeback:write_links", BOOKS),
    EffectKind.QBO_INVOICE_LINK: Spec(p.InvoiceLink, f"{_STAGES}.link_writeback:write_link", BOOKS),
    EffectKind.QBO_RECURRING_UPDATE: Spec(
        p.RecurringUpdate, f"{_STAGES}.recurring_actions:update_template", BOOKS
    ),
    EffectKind.QBO_HOLD_NOTE: Spec(p.HoldNote, f"{_STAGES}.ladder:write_hold_note", BOOKS),
    EffectKind.QBO_OFFLINE_PAYMENT: Spec(
        p.OfflinePaymentEntry, f"{_STAGES}.offline_payments:book_offline_payment", BOOKS, Serial.MONEY
    ),
    EffectKind.BOOKS_DISPUTE: Spec(p.DisputePlan, f"{_BOOKS}.disputes:plan_dispute", LATER),
    EffectKind.BOOKS_PAYOUT_FAILED: Spec(p.PayoutFailed, f"{_BOOKS}.payouts:record_payout_failure", LATER),
    EffectKind.EMAIL_RECEIPT: Spec(pe.ReceiptEmail, _PAYMENT_EMAIL, PAYER),
    EffectKind.EMAIL_PROCESSING: Spec(pe.ProcessingEmail, _PAYMENT_EMAIL, PAYER),
    EffectKind.EMAIL_PAYMENT_FAILED: Spec(pe.PaymentFailedEmail, _PAYMENT_EMAIL, PAYER),
    EffectKind.EMAIL_SIGN_IN: Spec(pe.SignInEmail, f"{_STAGES}.account_sign_in:send_sign_in", PAYER),
    EffectKind.EMAIL_STAFF: Spec(pe.StaffAlert, f"{_STAGES}.notify:send_staff_alert", STAFF),
    EffectKind.EMAIL_NOTICE: Spec(pe.Notice, f"{_STAGES}.notify:send_notice", LATER),
    EffectKind.EMAIL_INVOICE: Spec(pe.InvoiceEmail, f"{_STAGES}.notify:send_invoice_email", LATER),
    EffectKind.EMAIL_REMINDER: Spec(pe.ReminderEmail, f"{_STAGES}.notify:send_invoice_email", LATER),
    EffectKind.EMAIL_CARD_REQUEST: Spec(pe.CardRequestEmail, f"{_STAGES}.card_requests:send_request", LATER),
    EffectKind.EMAIL_CARD_EXPIRY: Spec(
        pe.CardExpiryEmail, f"{_STAGES}.card_expiry:send_expiry_notice", LATER
    ),
    EffectKind.EMAIL_RECURRING: Spec(
        pe.RecurringEmail, f"{_STAGES}.recurring_notices:send_recurring_email", LATER
    ),
    EffectKind.SMS_MESSAGE: Spec(p.TextMessage, f"{_STAGES}.texts:send_text", LATER),
    EffectKind.EMAIL_DUNNING: Spec(p.Dunning, f"{_STAGES}.reminders:send_dunning", LATER),
    EffectKind.EMAIL_COLLECTOR_DIGEST: Spec(p.CollectorDigest, f"{_STAGES}.digests:send_digest", LATER),
    EffectKind.EMAIL_AUTOPAY_NOTICE: Spec(
        pu.AutopayNoticeEmail, f"{_STAGES}.autopay_mail:send_notice", LATER
    ),
    EffectKind.EMAIL_AUTOPAY_OUTCOME: Spec(
        pu.AutopayOutcomeEmail, f"{_STAGES}.autopay_mail:send_outcome", LATER
    ),
    # Installment plans
    EffectKind.STRIPE_PLAN_CHARGE: Spec(PlanCharge, f"{_STAGES}.plan_charges:charge", MONEY, Serial.MONEY),
    EffectKind.EMAIL_PLAN: Spec(PlanEmail, f"{_STAGES}.plan_mail:send_plan_email", LATER),
    # Card authorisations
    EffectKind.STRIPE_AUTHORIZE: Spec(
        pa.AuthorizationPlace, f"{_STAGES}.authorizations:authorize", MONEY, Serial.MONEY
    ),
    EffectKind.STRIPE_AUTHORIZATION_CAPTURE: Spec(
        pa.AuthorizationCapture, f"{_STAGES}.authorization_effects:capture", MONEY, Serial.MONEY
    ),
    EffectKind.STRIPE_AUTHORIZATION_RELEASE: Spec(
        pa.AuthorizationRelease, f"{_STAGES}.authorization_effects:release", MONEY, Serial.MONEY
    ),
    EffectKind.EMAIL_AUTHORIZATION: Spec(
        pa.AuthorizationEmail, f"{_STAGES}.authorization_mail:send_authorization_email", LATER
    ),
}
PAYLOADS.update({cls.KIND: cls for cls in AUTHORIZATION_PAYLOADS})
# Collections: small-debt write-offs
PAYLOADS[EffectKind.QBO_WRITE_OFF] = WriteOffBooking
SPECS[EffectKind.QBO_WRITE_OFF] = Spec(
    WriteOffBooking, f"{_STAGES}.writeoffs:book_write_off", BOOKS, Serial.MONEY
)
# Batched money entries: a batch performs its members' writes, so it goes first like them; it must
# not fail (its members wait on it), so the worker holds it instead.
PAYLOADS[EffectKind.QBO_ENTRY_BATCH] = EntryBatch
SPECS[EffectKind.QBO_ENTRY_BATCH] = Spec(
    EntryBatch,
    f"{_STAGES}.batch_writes:write_entry_batch",
    MONEY,
    on_held=f"{_STAGES}.batch_writes:tell_staff_batch_held",
)


def spec_of(payload: Payload) -> Spec:
    return SPECS[payload.KIND]


def serial_group(payload: Payload, realm_id: str) -> str | None:
    """The group the effect joins: its kind's, for its customer (none while that is unknown)."""
    group, customer = spec_of(payload).group, payload.customer()
    return group.group(realm_id, customer) if group is not None and customer else None


def resolve(name: str) -> Callable[..., Any]:
    """The function a ``module:function`` name in the catalog stands for."""
    module, _, attr = name.partition(":")
    found = getattr(importlib.import_module(module), attr)
    if not callable(found):
        raise TypeError(f"{name} is not a function")
    return found  # type: ignore[no-any-return]


__all__ = [
    "PAYLOADS",
    "SPECS",
    "EffectKind",
    "Payload",
    "Serial",
    "Spec",
    "kind_of",
    "resolve",
    "serial_group",
]
