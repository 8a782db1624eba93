"""The effect catalog: every kind declared whole, today's rows still load, keys and order unchanged."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from syncd import worker
from syncd.catalog import PAYLOADS, SPECS, EffectKind, Payload, Serial, resolve, serial_group
from syncd.catalog import payloads as p
from syncd.catalog import payloads_authorizations as pa
from syncd.catalog import payloads_autopay as pu
from syncd.catalog import payloads_email as pe
from syncd.catalog.payloads_batch import BatchMember, EntryBatch, batch_digest
from syncd.catalog.payloads_plans import PlanCharge, PlanEmail
from syncd.catalog.payloads_writeoff import WriteOffBooking, WrittenOffLine
from syncd.errors import PermanentError
from syncd.store import effects
from syncd.store.engine import Database

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

# Payloads exactly as the code before the catalog wrote them (rows may still be pending at upgrade).
WRITTEN_BEFORE: dict[EffectKind, list[dict[str, Any]]] = {
    EffectKind.STRIPE_CHECKOUT: [{"payment_key": "pay:c1:1:1"}],
    EffectKind.STRIPE_EXPIRE_CHECKOUT: [{"payment_key": "pay:c1:1:1", "session_id": "cs_1"}],
    EffectKind.STRIPE_SETUP_CHECKOUT: [{"request_key": "card:c1:7:2026-11-01"}],
    EffectKind.STRIPE_DEFAULT_METHOD: [{"method_id": "pm_1", "stripe_customer_id": "cus_1"}],
    EffectKind.STRIPE_DETACH_METHOD: [{"method_id": "pm_1"}],
    EffectKind.QBO_PAYMENT: [{"payment_key": "pay:1"}, {"payment_key": "pay:1", "round": 2, "refused": 1}],
    EffectKind.QBO_VOID: [{"payment_intent_id": "pi_1", "dispute_id": "dp_1", "balance_txn_id": "txn_1"}],
    EffectKind.QBO_FEE: [{"payment_intent_id": "pi_1", "balance_txn_id": "txn_1"}],
    EffectKind.QBO_REFUND: [{"refund_id": "re_1"}],
    EffectKind.QBO_REFUND_FAILED: [{"refund_id": "re_1"}],
    EffectKind.QBO_DISPUTE: [{"dispute_id": "dp_1", "balance_txn_id": "txn_1", "fee_only": True}],
    EffectKind.QBO_PAYOUT: [{"payout_id": "po_1"}],
    EffectKind.QBO_CUSTOMER_CONTACT: [{"customer_id": "7", "email": "a@example.com", "phone": None}],
    EffectKind.QBO_INVOICE_LINKS: [
        {
            "invoices": [
                {"invoice_id": "1", "sync_token": "3", "memo": None},
                {"invoice_id": "2", "sync_token": None, "memo": "paid by card"},
            ]
        }
    ],
    EffectKind.QBO_INVOICE_LINK: [{"invoice_id": "1"}],
    EffectKind.BOOKS_DISPUTE: [{"dispute_id": "dp_1"}],
    EffectKind.BOOKS_PAYOUT_FAILED: [{"payout_id": "po_1"}],
    EffectKind.EMAIL_RECEIPT: [{"payment_key": "pay:1"}],
    EffectKind.EMAIL_PROCESSING: [{"payment_key": "pay:1"}],
    EffectKind.EMAIL_PAYMENT_FAILED: [{"payment_key": "pay:1"}],
    EffectKind.EMAIL_SIGN_IN: [{"nonce": "n0nce", "to": "a@example.com"}],
    EffectKind.EMAIL_STAFF: [{"title": "Refund failed", "body": "The bank sent it back."}, {}],
    EffectKind.EMAIL_NOTICE: [
        {
            "customer_id": "7",
            "to": "a@example.com",
            "items": [
                {"invoice_id": "1", "reason": "invoice", "days": None},
                {"invoice_id": "2", "reason": "reminder", "days": 7},
            ],
        }
    ],
    EffectKind.EMAIL_INVOICE: [{"invoice_id": "1"}],
    EffectKind.EMAIL_REMINDER: [{"invoice_id": "1", "days": 7}],
    EffectKind.EMAIL_CARD_REQUEST: [{"customer_id": "7", "ident": "2026-11-01"}],
    EffectKind.EMAIL_CARD_EXPIRY: [{"payment_method_id": "pm_1", "ident": "expiry-pm_1-2026-12"}],
    EffectKind.QBO_RECURRING_UPDATE: [{"template_id": "9", "action": "cancel", "end_date": "2026-11-01"}],
    EffectKind.EMAIL_RECURRING: [{"template_id": "9", "topic": "contract_end", "ident": "2027-01-01"}],
    EffectKind.SMS_MESSAGE: [{"customer_id": "7", "body": "Pay: https://x/p/1", "queued_at": "2026-11-01"}],
    EffectKind.QBO_OFFLINE_PAYMENT: [{"request_id": "f3a9"}],
    EffectKind.QBO_HOLD_NOTE: [
        {"customer_id": "7", "line": "on hold since 2026-11-03"},
        {"customer_id": "7"},
    ],
    EffectKind.EMAIL_COLLECTOR_DIGEST: [{"collector": "ana@x.test", "day": "2026-11-03"}],
    EffectKind.EMAIL_DUNNING: [
        {
            "customer_id": "7",
            "day": "2026-11-03",
            "step": -3,
            "template": "reminder_before",
            "invoice_ids": ["1", "2"],
            "to": "ap@example.com",
        }
    ],
    EffectKind.STRIPE_AUTOPAY_CHARGE: [{"charge_key": "autopay:c1:1:120.000:1"}],
    EffectKind.EMAIL_AUTOPAY_NOTICE: [{"charge_key": "autopay:c1:1:120.000:1"}],
    EffectKind.EMAIL_AUTOPAY_OUTCOME: [{"charge_key": "autopay:c1:1:120.000:1", "outcome": "retry"}],
    # Installment plans
    EffectKind.STRIPE_PLAN_CHARGE: [{"charge_key": "plan:c1:1:2:1"}],
    EffectKind.EMAIL_PLAN: [{"plan_id": 1, "seq": 2, "topic": "missed", "attempt": 1}],
    # Card authorisations
    EffectKind.STRIPE_AUTHORIZE: [{"authorization_id": "auth_0a1b2c3d4e5f"}],
    EffectKind.STRIPE_AUTHORIZATION_CAPTURE: [{"authorization_id": "auth_0a1b2c3d4e5f", "invoice_id": "130"}],
    EffectKind.STRIPE_AUTHORIZATION_RELEASE: [{"authorization_id": "auth_0a1b2c3d4e5f"}],
    EffectKind.EMAIL_AUTHORIZATION: [{"authorization_id": "auth_0a1b2c3d4e5f", "event": "placed"}],
    EffectKind.QBO_WRITE_OFF: [
        {
            "write_off_id": 4,
            "entry": "bad_debt",
            "item_id": "21",
            "currency": "USD",
            "invoices": [{"invoice_id": "1", "amount": "30.00"}, {"invoice_id": "2", "amount": "9.50"}],
        }
    ],
    EffectKind.QBO_ENTRY_BATCH: [
        {
            "digest": "0123abcd",
            "members": [
                {"key": "qbo:payment:pi_1", "kind": "qbo.payment", "draft": "{}", "finish": "{}"},
                {"key": "qbo:fee:txn_1", "kind": "qbo.fee", "draft": "{}", "finish": "{}"},
            ],
        }
    ],
}


class Row:
    def __init__(self, kind: str, payload: dict[str, Any]) -> None:
        self.kind, self.payload = kind, payload


def test_every_kind_has_a_payload_key_builder_priority_and_handler() -> None:
    assert set(SPECS) == set(PAYLOADS) == set(EffectKind)
    for kind, spec in SPECS.items():
        assert spec.payload is PAYLOADS[kind] and spec.payload.KIND is kind
        assert spec.payload.KEY or spec.payload.key is not Payload.key, f"{kind} has no key builder"
        assert callable(resolve(spec.handler)), kind
        if spec.on_held is not None:
            assert callable(resolve(spec.on_held)), kind
    assert set(worker.performers()) == {k.value for k in EffectKind}


def test_only_a_charge_booking_and_the_batches_writing_them_must_not_fail() -> None:
    assert [k for k, s in SPECS.items() if s.on_held] == [EffectKind.QBO_PAYMENT, EffectKind.QBO_ENTRY_BATCH]
    assert worker.performers()["qbo.payment"].on_held is not None


@pytest.mark.parametrize("kind", list(EffectKind), ids=str)
def test_payloads_written_before_the_catalog_still_load(kind: EffectKind) -> None:
    assert WRITTEN_BEFORE[kind], f"add what {kind} rows hold today"
    for written in WRITTEN_BEFORE[kind]:
        loaded = PAYLOADS[kind].of(Row(kind.value, {**written, "added_later": 1}))
        assert type(loaded) is PAYLOADS[kind]
        stored = loaded.to_json()
        assert {k: stored[k] for k in written} == written  # nothing read differently
        assert type(loaded).from_json(stored) == loaded


def test_typed_reads_of_old_rows() -> None:
    links = p.InvoiceLinks.of(Row("qbo.invoice_links", WRITTEN_BEFORE[EffectKind.QBO_INVOICE_LINKS][0]))
    assert links.invoices == (p.LinkItem("1", "3", None), p.LinkItem("2", None, "paid by card"))
    notice = pe.Notice.of(Row("email.notice", WRITTEN_BEFORE[EffectKind.EMAIL_NOTICE][0]))
    assert notice.items[1] == pe.NoticeItem("2", "reminder", 7) and notice.to == "a@example.com"
    assert p.QboPayment.of(Row("qbo.payment", {"payment_key": "pay:1"})).round == 0
    assert pe.StaffAlert.of(Row("email.staff", {})).title == "syncd needs attention"
    assert p.QboDispute.of(Row("qbo.dispute", {"dispute_id": "d", "balance_txn_id": "t"})).fee_only is False


def test_a_payload_of_another_kind_or_missing_a_field_is_a_permanent_error() -> None:
    with pytest.raises(PermanentError, match=r"qbo\.fee"):
        p.QboRefund.of(Row("qbo.fee", {"refund_id": "re_1"}))
    with pytest.raises(PermanentError, match="refund_id"):
        p.QboRefund.of(Row("qbo.refund", {}))
    with pytest.raises(PermanentError):
        p.QboRefund.of(Row("qbo.gone", {"refund_id": "re_1"}))
    assert pe.PaymentEmail.of(Row("email.receipt", {"payment_key": "k"})) == pe.ReceiptEmail("k", ref="")


# Keys as the code before the catalog built them: a changed key would perform an effect twice.
KEYS: list[tuple[Payload, str, str | None]] = [
    (p.StripeCheckout("pay:c1:1:1"), "stripe:checkout:pay:c1:1:1", None),
    (p.ExpireCheckout("pay:1", "cs_1"), "stripe:expire:cs_1", None),
    (p.SetupCheckout("card:c1:7:d", attempt="2"), "stripe:setup:card:c1:7:d:2", None),
    (
        p.DefaultMethod("pm_1", "cus_1", qbo_customer_id="7", request_id="form-1"),
        "stripe:default-method:c1:7:pm_1:form-1",
        "methods:c1:7",
    ),
    (p.DetachMethod("pm_1", qbo_customer_id="7"), "stripe:detach-method:pm_1", "methods:c1:7"),
    (p.QboPayment("pay:1", ref="pi_1", customer_id="7"), "qbo:payment:pi_1", "money:c1:7"),
    (
        p.QboPayment("pay:1", ref="pi_1", customer_id="7", rebook_of="55"),
        "qbo:payment:pi_1:rebook:55",
        "money:c1:7",
    ),
    (p.QboVoid("pi_1", "dp_1", "txn_1", customer_id="7"), "qbo:void:pi_1", "money:c1:7"),
    (p.QboFee("pi_1", "txn_1"), "qbo:fee:txn_1", None),
    (p.QboRefund("re_1", customer_id="7"), "qbo:refund:re_1", "money:c1:7"),
    (p.QboRefund("re_1", customer_id=None), "qbo:refund:re_1", None),
    (p.QboRefundFailed("re_1", customer_id="7"), "qbo:refund_failed:re_1", "money:c1:7"),
    (p.QboDispute("dp_1", "txn_1"), "qbo:dispute:dp_1:txn_1", None),
    (p.QboPayout("po_1"), "qbo:payout:po_1", None),
    (
        p.CustomerContact("7", None, "555", fingerprint="f" * 24),
        f"qbo:customer_contact:c1:7:{'f' * 24}",
        None,
    ),
    (p.InvoiceLink("1"), "qbo:link:c1:1", None),
    (
        p.DisputePlan("dp_1", event_type="charge.dispute.created"),
        "stripe:dispute:dp_1:charge.dispute.created",
        None,
    ),
    (p.PayoutFailed("po_1"), "qbo:payout_failed:po_1", None),
    (pe.ReceiptEmail("pay:1", ref="pi_1"), "email:receipt:pi_1", None),
    (pe.ProcessingEmail("pay:1", ref="pi_1"), "email:processing:pi_1", None),
    (pe.PaymentFailedEmail("pay:1", ref="pi_1"), "email:payment_failed:pi_1", None),
    (pe.PaymentFailedEmail("pay:1", ref="pi_1", returned=True), "email:payment_returned:pi_1", None),
    (pe.SignInEmail("n", "a@example.com", token_digest="d1"), "email:signin:d1", None),
    (pe.StaffAlert("T", "B", ident="refund-failed:re_1"), "email:staff:refund-failed:re_1", None),
    (pe.Notice("7", day="2026-11-01"), "email:notice:c1:7:2026-11-01", None),
    (pe.InvoiceEmail("1"), "email:invoice:c1:1", None),
    (pe.ReminderEmail("1", days=7), "email:reminder:c1:1:7", None),
    (
        pe.CardRequestEmail("7", "2026-11-01", request_key="card:c1:7:2026-11-01"),
        "email:card:c1:7:2026-11-01",
        None,
    ),
    (
        pe.CardExpiryEmail("pm_1", "expiry-pm_1-2026-12", expiry="2026-12"),
        "email:card-expiry:c1:pm_1:2026-12",
        None,
    ),
    (p.RecurringUpdate("9", "cancel", "2026-11-01", version="3"), "qbo:recurring:c1:9:cancel:3", None),
    (pe.RecurringEmail("9", "trial", "2026-12-01"), "email:recurring:c1:9:trial:2026-12-01", None),
    (
        p.TextMessage("7", "Pay: https://x/p/1", "2026-11-01T12:00:00+00:00", purpose="reminder", ref="1-3"),
        "sms:c1:reminder:1-3",
        None,
    ),
    (p.OfflinePaymentEntry("f3a9", customer_id="7"), "qbo:offline_payment:c1:f3a9", "money:c1:7"),
    (p.HoldNote("7", "x", change="placed:1"), "qbo:hold_note:c1:7:placed:1", None),
    (
        p.CollectorDigest("ana@x.test", day="2026-11-03"),
        "email:collector_digest:c1:ana@x.test:2026-11-03",
        None,
    ),
    (
        p.Dunning("7", day="2026-11-03", step=-3, template="reminder_before", invoice_ids=("1",)),
        "email:dunning:c1:7:2026-11-03:-3",
        None,
    ),
    (
        pu.AutopayCharge("autopay:c1:1:120.000:1", customer_id="7"),
        "stripe:autopay:c1:1:120.000:1",
        "money:c1:7",
    ),
    (pu.AutopayNoticeEmail("autopay:c1:1:120.000:1"), "email:notice:autopay:c1:1:120.000:1", None),
    (
        pu.AutopayOutcomeEmail("autopay:c1:1:120.000:1", "retry"),
        "email:outcome:autopay:c1:1:120.000:1:retry",
        None,
    ),
    # Installment plans
    (PlanCharge("plan:c1:4:2:1", customer_id="7"), "stripe:plan:c1:4:2:1", "money:c1:7"),
    (PlanEmail(4, 2, "missed", 1), "email:plan:c1:4:2:missed:1", None),
    (pa.AuthorizationPlace("auth_1", customer_id="7"), "stripe:authorize:auth_1", "money:c1:7"),
    (pa.AuthorizationCapture("auth_1", "130", customer_id="7"), "stripe:capture:auth_1:130", "money:c1:7"),
    (pa.AuthorizationRelease("auth_1", customer_id="7"), "stripe:release:auth_1", "money:c1:7"),
    (pa.AuthorizationEmail("auth_1", "captured"), "email:authorization:auth_1:captured", None),
    (
        WriteOffBooking(4, "credit_memo", "1", "USD", (WrittenOffLine("1", "30.00"),), customer_id="7"),
        "qbo:write_off:c1:4",
        "money:c1:7",
    ),
    (
        EntryBatch.of_members(
            [BatchMember("qbo:fee:t", "qbo.fee", "{}"), BatchMember("qbo:payment:p", "qbo.payment", "{}")]
        ),
        f"qbo:entry_batch:c1:{batch_digest(['qbo:payment:p', 'qbo:fee:t'])}",
        None,
    ),
]


@pytest.mark.parametrize(("payload", "key", "group"), KEYS, ids=[k for _, k, _ in KEYS])
def test_keys_and_groups_are_what_they_were(payload: Payload, key: str, group: str | None) -> None:
    assert payload.key("c1") == key
    assert serial_group(payload, "c1") == group


def test_every_kind_has_a_key_test() -> None:
    assert {type(payload).KIND for payload, _, _ in KEYS} | {EffectKind.QBO_INVOICE_LINKS} == set(EffectKind)
    batch = p.InvoiceLinks((p.LinkItem("1"), p.LinkItem("2")))
    assert (
        batch.key("c1") == p.InvoiceLinks.key_of("c1", ["1", "2"]) != p.InvoiceLinks.key_of("c1", ["2", "1"])
    )


# The priorities the string-prefix table gave each kind before the catalog.
OLD_PREFIXES = (
    ("stripe.", 0),
    ("qbo.payment", 0),
    ("qbo.void", 0),
    ("qbo.entry_batch", 0),  # added since: it writes Payments, so it goes with them
    ("email.receipt", 1),
    ("email.sign_in", 1),
    ("email.processing", 1),
    ("email.payment_failed", 1),
    ("qbo.", 2),
    ("email.staff", 3),
)


@pytest.mark.parametrize("kind", list(EffectKind), ids=str)
def test_priorities_are_what_the_prefix_table_gave(kind: EffectKind) -> None:
    old = next((prio for prefix, prio in OLD_PREFIXES if kind.value.startswith(prefix)), 5)
    assert SPECS[kind].priority == old


def test_enqueue_takes_key_kind_priority_and_group_from_the_catalog(db: Database) -> None:
    payment = p.QboPayment("pay:1", ref="pi_1", customer_id="7")
    with db.transaction() as s:
        assert effects.enqueue(s, payment, company_id="c1", now=T0)
        assert not effects.enqueue(s, payment, company_id="c1", now=T0)
    with db.transaction() as s:
        row = effects.get(s, "qbo:payment:pi_1")
        assert row is not None
        assert (row.kind, row.priority, row.serial_group) == ("qbo.payment", 0, Serial.MONEY.group("c1", "7"))
        assert row.payload == {"payment_key": "pay:1", "round": 0, "refused": 0}
