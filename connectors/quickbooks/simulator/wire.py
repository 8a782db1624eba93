"""QBO wire format: Decimal-exact JSON, QBO timestamps and the Fault bodies the API answers with."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

# QBO stamps entities in the company's zone with an explicit offset; the samples are US/Pacific.
COMPANY_TZ = ZoneInfo("America/Los_Angeles")

_DEC_MARK = "\u0001dec:"
_DEC_RE = re.compile(r'"\\u0001dec:([-0-9.Ee+]+)"')

CURRENCY_NAMES = {
    "USD": "United States Dollar",
    "CAD": "Canadian Dollar",
    "EUR": "Euro",
    "GBP": "British Pound Sterling",
    "AUD": "Australian Dollar",
}

THROTTLE_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<IntuitResponse time="2016-12-07T15:27:09.527-08:00" xmlns="http://schema.intuit.com/finance/v3">\n'
    '  <Fault type="SERVICE">\n'
    '    <Error code="3001">\n'
    "      <Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message>\n"
    "      <Detail>The request limit was reached.  Try again later</Detail>\n"
    "    </Error>\n"
    "  </Fault>\n"
    "</IntuitResponse>\n"
)


def _default(obj: object) -> object:
    if isinstance(obj, Decimal):
        return _DEC_MARK + format(obj, "f")
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def dumps(payload: Any) -> bytes:
    """JSON with Decimals written as exact number literals (``100.00`` stays ``100.00``)."""
    text = json.dumps(payload, default=_default, separators=(",", ":"), ensure_ascii=False)
    return _DEC_RE.sub(r"\1", text).encode()


def loads(raw: bytes | str) -> Any:
    """Parse a request body keeping every fractional number a Decimal."""
    return json.loads(raw, parse_float=Decimal)


def money(value: object) -> Decimal:
    """Any JSON number (or numeric string) as a cent-exact Decimal."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not an amount: {value!r}")
    if isinstance(value, int | str):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    raise ValueError(f"not an amount: {value!r}")


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def qbo_time(when: datetime) -> str:
    """Entity timestamp as QBO writes it: seconds, company offset (``2020-09-29T04:46:06-07:00``)."""
    return when.astimezone(COMPANY_TZ).replace(microsecond=0).isoformat()


def response_time(when: datetime) -> str:
    """The envelope's ``time``: milliseconds and offset (``2020-09-29T05:58:07.300-07:00``)."""
    local = when.astimezone(COMPANY_TZ)
    return local.isoformat(timespec="milliseconds")


def parse_time(text: str) -> datetime:
    """ISO timestamp (offset, ``Z`` or naive-as-UTC) or a bare date, as aware UTC."""
    text = text.strip()
    if len(text) == 10:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def currency_ref(code: str) -> dict[str, str]:
    return {"value": code, "name": CURRENCY_NAMES.get(code, code)}


class QboFault(Exception):
    """A request QBO would refuse: carries the HTTP status and the Fault body's parts."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        detail: str,
        *,
        fault_type: str = "ValidationFault",
        element: str | None = "",
    ) -> None:
        super().__init__(f"{code} {message}: {detail}")
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail
        self.fault_type = fault_type
        self.element = element

    def fault(self) -> dict[str, Any]:
        error: dict[str, Any] = {"Message": self.message, "Detail": self.detail, "code": self.code}
        if self.element is not None:
            error["element"] = self.element
        return {"Error": [error], "type": self.fault_type}

    def body(self, now: datetime) -> dict[str, Any]:
        return {"Fault": self.fault(), "time": response_time(now)}


def validation(detail: str, *, code: str = "2020", message: str = "Required param missing") -> QboFault:
    return QboFault(400, code, message, detail)


def business_rule(detail: str, *, code: str = "6000") -> QboFault:
    return QboFault(
        400, code, "A business validation error has occurred while processing your request", detail
    )


def query_fault(detail: str) -> QboFault:
    return QboFault(400, "4001", "Invalid query", f"QueryValidationError: {detail}", element=None)


def not_found(entity: str, entity_id: str) -> QboFault:
    return QboFault(
        400,
        "610",
        "Object Not Found",
        f"Object Not Found : Something you're trying to use has been made inactive. "
        f"Check the fields with accounts, customers, items, vendors or employees. ({entity} {entity_id})",
    )


def stale_object(entity: str) -> QboFault:
    return QboFault(
        400,
        "5010",
        "Stale Object Error",
        f"Stale Object Error : You and another user were working on this {entity} at the same time. "
        "The other user finished before you did, so your work was not saved.",
    )


def duplicate_name() -> QboFault:
    return QboFault(
        400, "6240", "Duplicate Name Exists Error", "The name supplied already exists. : null", element=None
    )


def unknown_route(path: str) -> QboFault:
    return QboFault(
        404, "404", "Resource not found", f"Unsupported resource or operation: {path}", fault_type="SERVICE"
    )


def server_error() -> QboFault:
    return QboFault(
        500,
        "10000",
        "An application error has occurred while processing your request",
        "System Failure Error: An unexpected error occurred while accessing or saving your data.",
        fault_type="SystemFault",
    )


def gateway_timeout() -> QboFault:
    return QboFault(
        504, "10000", "Gateway Timeout", "The request timed out upstream.", fault_type="SystemFault"
    )


def auth_fault_body(token_hint: str, now: datetime) -> dict[str, Any]:
    """The 401 body QBO sends for a missing, unknown or expired access token (fault_auth_401.json)."""
    return {
        "warnings": None,
        "intuitObject": None,
        "fault": {
            "error": [
                {
                    "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                    "detail": f"Token expired: {token_hint}",
                    "code": "3200",
                    "element": None,
                }
            ],
            "type": "AUTHENTICATION",
        },
        "report": None,
        "queryResponse": None,
        "batchItemResponse": [],
        "attachableResponse": [],
        "syncErrorResponse": None,
        "requestId": None,
        "time": int(now.timestamp() * 1000),
        "status": None,
        "cdcresponse": [],
    }
