"""QBO webhook parsing (both formats) and signature verification on the published samples."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from samples import QBO_SAMPLES

from connectors.quickbooks.webhooks import parse_webhook, verify_webhook_signature
from syncd.errors import PermanentError
from syncd.ports.quickbooks import QboWebhookNotice

CONTRACTS = QBO_SAMPLES


def test_legacy_format() -> None:
    notices = parse_webhook((CONTRACTS / "webhook_legacy.json").read_bytes())
    assert notices == [
        QboWebhookNotice("1269959970", (("Vendor", "40", "Update"), ("Customer", "43", "Create")))
    ]


def test_cloudevents_format() -> None:
    notices = parse_webhook((CONTRACTS / "webhook_cloudevents.json").read_bytes())
    assert notices == [QboWebhookNotice("310687", (("Class", "1234", "Create"),))]


def test_cloudevents_group_by_company_and_spell_entities_like_qbo() -> None:
    events = [
        {"type": "qbo.invoice.updated.v1", "intuitentityid": "7", "intuitaccountid": "A"},
        {"type": "qbo.creditmemo.deleted.v1", "intuitentityid": "8", "intuitaccountid": "B"},
        {"type": "qbo.payment.voided.v1", "intuitentityid": "9", "intuitaccountid": "A"},
    ]
    notices = parse_webhook(json.dumps(events).encode())
    assert notices == [
        QboWebhookNotice("A", (("Invoice", "7", "Update"), ("Payment", "9", "Void"))),
        QboWebhookNotice("B", (("CreditMemo", "8", "Delete"),)),
    ]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"{}",
        b'{"eventNotifications": [{}]}',
        b'[{"type": "x"}]',
        b'[{"type": "nope", "intuitaccountid": "1"}]',
    ],
)
def test_unparseable_bodies_are_permanent_errors(body: bytes) -> None:
    with pytest.raises(PermanentError):
        parse_webhook(body)


def test_signature_of_the_signed_dotnet_sample() -> None:
    raw = (CONTRACTS / "webhook_legacy_signed_dotnet.raw.json").read_bytes()
    meta = json.loads((CONTRACTS / "webhook_legacy_signed_dotnet.signature.json").read_text())
    assert verify_webhook_signature(raw, meta["intuit-signature"], meta["verifier_token"])
    assert not verify_webhook_signature(raw + b" ", meta["intuit-signature"], meta["verifier_token"])
    assert not verify_webhook_signature(raw, meta["intuit-signature"], "other-token")
    assert not verify_webhook_signature(raw, None, meta["verifier_token"])
    assert parse_webhook(raw)[0].realm_id == "1269959970"


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
_ID = st.text(min_size=1, max_size=6) | _JSON
# Both formats' real keys, each holding either the right kind of value or anything at all.
_ENTITY = st.fixed_dictionaries({}, optional={"name": _ID, "id": _ID, "operation": _ID}) | _JSON
_CHANGE = st.fixed_dictionaries({}, optional={"entities": st.lists(_ENTITY, max_size=3) | _JSON}) | _JSON
_NOTE = st.fixed_dictionaries({}, optional={"realmId": _ID, "dataChangeEvent": _CHANGE}) | _JSON
_LEGACY = st.fixed_dictionaries({"eventNotifications": st.lists(_NOTE, max_size=3) | _JSON})
_CLOUD_EVENT = (
    st.fixed_dictionaries(
        {},
        optional={
            "type": st.sampled_from(["qbo.invoice.updated.v1", "qbo.x", "x"]) | _JSON,
            "intuitaccountid": _ID,
            "intuitentityid": _ID,
        },
    )
    | _JSON
)


@settings(max_examples=400, deadline=None)
@given(doc=_LEGACY | st.lists(_CLOUD_EVENT, max_size=3) | _JSON)
def test_any_json_is_notices_or_a_permanent_error(doc: object) -> None:
    """A signed body of any shape is parsed or refused as PermanentError (a 400), never a crash."""
    try:
        notices = parse_webhook(json.dumps(doc).encode())
    except PermanentError:
        return
    assert all(isinstance(n.realm_id, str) and n.realm_id for n in notices)
