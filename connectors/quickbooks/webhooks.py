"""QBO webhook bodies (legacy eventNotifications and CloudEvents arrays) parsed into notices."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from syncd.errors import PermanentError
from syncd.ports.quickbooks import QboWebhookNotice

# CloudEvents types spell entities in lower case (``qbo.creditmemo.updated.v1``).
_ENTITY_NAMES = {
    name.lower(): name
    for name in (
        "Account",
        "Bill",
        "BillPayment",
        "Class",
        "CreditMemo",
        "Customer",
        "Department",
        "Deposit",
        "Employee",
        "Estimate",
        "Invoice",
        "Item",
        "JournalEntry",
        "Payment",
        "PaymentMethod",
        "Preferences",
        "Purchase",
        "PurchaseOrder",
        "RefundReceipt",
        "SalesReceipt",
        "TaxAgency",
        "Term",
        "TimeActivity",
        "Transfer",
        "Vendor",
        "VendorCredit",
    )
}
_OPERATIONS = {
    "created": "Create",
    "updated": "Update",
    "deleted": "Delete",
    "voided": "Void",
    "merged": "Merge",
    "emailed": "Emailed",
}


def verify_webhook_signature(body: bytes, signature: str | None, verifier_token: str) -> bool:
    """True when ``intuit-signature`` is base64(HMAC-SHA256(verifier_token, body)); constant time."""
    if not signature or not verifier_token:
        return False
    digest = hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode(), signature.strip())


def parse_webhook(body: bytes) -> list[QboWebhookNotice]:
    """Parse a verified body in either format; PermanentError on anything else."""
    try:
        doc: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise PermanentError("QBO webhook body is not JSON") from None
    try:
        if isinstance(doc, dict) and "eventNotifications" in doc:
            return _legacy(doc["eventNotifications"])
        if isinstance(doc, list):
            return _cloudevents(doc)
    except (AttributeError, TypeError, KeyError) as exc:
        # Signed, so Intuit's (or the verifier token holder's) mistake: a 400, never a crash.
        raise PermanentError(f"malformed QBO webhook body: {type(exc).__name__}") from None
    raise PermanentError("QBO webhook body is neither eventNotifications nor a CloudEvents array")


def _realm(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
        raise PermanentError(f"QBO webhook realm id is not an id: {value!r}"[:200])
    return str(value)


def _legacy(notifications: Any) -> list[QboWebhookNotice]:
    if not isinstance(notifications, list):
        raise PermanentError("QBO webhook eventNotifications is not a list")
    notices: list[QboWebhookNotice] = []
    for note in notifications:
        if not isinstance(note, dict) or not note.get("realmId"):
            raise PermanentError("QBO webhook notification without realmId")
        entities = (note.get("dataChangeEvent") or {}).get("entities") or []
        if not isinstance(entities, list):
            raise PermanentError("QBO webhook entities is not a list")
        parsed = tuple(
            (str(e.get("name", "")), str(e.get("id", "")), str(e.get("operation", "")))
            for e in entities
            if isinstance(e, dict)
        )
        notices.append(QboWebhookNotice(realm_id=_realm(note["realmId"]), entities=parsed))
    return notices


def _cloudevent_entity(event: dict[str, Any]) -> tuple[str, str, str]:
    parts = str(event.get("type", "")).split(".")
    if len(parts) < 3 or parts[0] != "qbo":
        raise PermanentError(f"QBO CloudEvent of unknown type {event.get('type')!r}")
    entity = _ENTITY_NAMES.get(parts[1].lower(), parts[1][:1].upper() + parts[1][1:])
    operation = _OPERATIONS.get(parts[2].lower(), parts[2][:1].upper() + parts[2][1:])
    return (entity, str(event.get("intuitentityid", "")), operation)


def _cloudevents(events: list[Any]) -> list[QboWebhookNotice]:
    by_realm: dict[str, list[tuple[str, str, str]]] = {}
    for event in events:
        if not isinstance(event, dict) or not event.get("intuitaccountid"):
            raise PermanentError("QBO CloudEvent without intuitaccountid")
        by_realm.setdefault(_realm(event["intuitaccountid"]), []).append(_cloudevent_entity(event))
    return [QboWebhookNotice(realm_id=realm, entities=tuple(ents)) for realm, ents in by_realm.items()]
