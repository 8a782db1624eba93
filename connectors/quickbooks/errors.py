"""QBO HTTP statuses and Fault bodies (JSON or XML) mapped onto syncd's one error tree."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from syncd.errors import (
    AuthError,
    Credential,
    OpenBalanceError,
    PermanentError,
    StaleObjectError,
    SyncdError,
    ThrottledError,
    TransientError,
    ValidationError,
)

THROTTLE_CODE = "3001"
STALE_CODE = "5010"
NOT_FOUND_CODE = "610"
# A Payment line refused because of its invoice: more than is open (6140) or an invoice of
# another customer (6190); a gone invoice is 610 or 2500 naming the Invoice.
OPEN_BALANCE_CODES = ("6140", "6190")
GONE_REFERENCE_CODES = ("610", "2500")
_GONE = re.compile(r"QBO (\d+) ")  # the code as QboFault.text() leads with it
_XML_NS = "{http://schema.intuit.com/finance/v3}"


class QboNotFoundError(PermanentError):
    """QBO code 610: the object does not exist (or was made inactive/deleted)."""


@dataclass(frozen=True, slots=True)
class QboFault:
    """The first error of a QBO Fault, reduced to what the error tree needs."""

    code: str
    message: str
    detail: str
    fault_type: str

    def text(self) -> str:
        return f"QBO {self.code} {self.message}: {self.detail}".strip()

    def text_without_detail(self) -> str:
        """Auth faults echo part of the access token in Detail: keep it out of errors and logs."""
        return f"QBO {self.code} {self.message}".strip()


def fault_from_json(doc: object) -> QboFault | None:
    """The Fault in a JSON body or batch item: ``Fault`` (v3) or the lower-case ``fault`` (401)."""
    if not isinstance(doc, dict):
        return None
    fault = doc.get("Fault") or doc.get("fault")
    if not isinstance(fault, dict):
        return None
    errors = fault.get("Error") or fault.get("error") or [{}]
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    return QboFault(
        code=str(first.get("code") or ""),
        message=str(first.get("Message") or first.get("message") or ""),
        detail=str(first.get("Detail") or first.get("detail") or ""),
        fault_type=str(fault.get("type") or ""),
    )


def fault_from_xml(body: bytes) -> QboFault | None:
    """The Fault in an ``IntuitResponse`` XML body (throttling always answers XML)."""
    try:
        root = ET.fromstring(body)  # noqa: S314 - bounded vendor body, stdlib parser does not fetch entities
    except ET.ParseError:
        return None
    fault = root if root.tag.endswith("Fault") else root.find(f"{_XML_NS}Fault")
    if fault is None:
        fault = root.find("Fault")
    if fault is None:
        return None
    error = fault.find(f"{_XML_NS}Error")
    if error is None:
        error = fault.find("Error")
    if error is None:
        return QboFault("", "", "", fault.get("type", ""))

    def child(name: str) -> str:
        node = error.find(f"{_XML_NS}{name}")
        if node is None:
            node = error.find(name)
        return (node.text or "").strip() if node is not None else ""

    return QboFault(error.get("code", ""), child("Message"), child("Detail"), fault.get("type", ""))


def parse_fault(body: bytes) -> QboFault | None:
    """The Fault in a response body of either format, or None."""
    text = body.lstrip()
    if text.startswith(b"<"):
        return fault_from_xml(text)
    try:
        return fault_from_json(json.loads(text))
    except ValueError:
        return None


def error_for_fault(fault: QboFault, *, status: int | None = None) -> SyncdError:
    """The syncd error for one QBO fault (also used for batch items, which carry no status)."""
    code = fault.code.lstrip("0")
    message = fault.text()
    if code == THROTTLE_CODE or status == 429:
        return ThrottledError(message)
    if code == STALE_CODE:
        return StaleObjectError(message)
    if code == NOT_FOUND_CODE:
        return QboNotFoundError(message)
    if status == 401 or fault.fault_type.upper() in ("AUTHENTICATION", "AUTHENTICATIONFAULT"):
        return AuthError(fault.text_without_detail(), credential=Credential.QBO_CONNECTION)
    if status == 403 or fault.fault_type.upper() in ("AUTHORIZATION", "AUTHORIZATIONFAULT"):
        return AuthError(fault.text_without_detail(), credential=Credential.QBO_CONNECTION)
    if status is not None and status >= 500:
        return TransientError(message)
    if code.isdigit() and int(code) >= 10000:
        # QBO "severe" errors are internal failures on its side.
        return TransientError(message)
    if code in OPEN_BALANCE_CODES:
        return OpenBalanceError(message)
    if fault.fault_type == "ValidationFault" or (code.isdigit() and 2000 <= int(code) < 10000):
        return ValidationError(message)
    return PermanentError(message)


def payment_link_error(error: SyncdError) -> SyncdError:
    """A Payment write's refusal made specific when it is about the invoices the lines named."""
    if not isinstance(error, PermanentError) or isinstance(error, OpenBalanceError):
        return error
    text = str(error)
    gone = _GONE.match(text)
    if gone and gone.group(1).lstrip("0") in GONE_REFERENCE_CODES and "invoice" in text.lower():
        return OpenBalanceError(text)
    return error


def error_for_response(status: int, body: bytes, *, retry_after: float | None = None) -> SyncdError:
    """The syncd error for a non-200 HTTP answer from the QBO API."""
    fault = parse_fault(body)
    if status == 429 or (fault is not None and fault.code.lstrip("0") == THROTTLE_CODE):
        return ThrottledError(
            fault.text() if fault else f"QBO throttled (HTTP {status})", retry_after=retry_after
        )
    if status >= 500 or status in (408, 502, 503, 504):
        text = fault.text() if fault else f"QBO HTTP {status}"
        return TransientError(text, retry_after=retry_after)
    if status == 401:
        return AuthError(
            fault.text_without_detail() if fault else "QBO rejected the access token (HTTP 401)",
            credential=Credential.QBO_CONNECTION,
        )
    if fault is not None:
        return error_for_fault(fault, status=status)
    if status == 404:
        return QboNotFoundError(f"QBO HTTP 404: {body[:200]!r}")
    return PermanentError(f"QBO HTTP {status}: {body[:200]!r}")
