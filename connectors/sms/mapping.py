"""Twilio's message objects and webhook forms to syncd's texting types, and the TwiML reply."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twilio.twiml.messaging_response import MessagingResponse

from syncd.errors import PermanentError
from syncd.ports.sms import InboundText, SentText, StatusReport, TextStatus


def to_sent(message: Any) -> SentText:
    """A created or listed Message instance of the SDK."""
    return SentText(sid=str(message.sid), status=TextStatus.read(str(message.status)))


def _field(params: Mapping[str, str], name: str, what: str) -> str:
    value = params.get(name)
    if not value:
        raise PermanentError(f"Twilio {what} without {name}")
    return value


def status_of(params: Mapping[str, str]) -> StatusReport:
    """A status callback's form (MessageSid, MessageStatus, ErrorCode, AccountSid)."""
    code = params.get("ErrorCode") or ""
    return StatusReport(
        sid=_field(params, "MessageSid", "status callback"),
        status=TextStatus.read(_field(params, "MessageStatus", "status callback")),
        account=_field(params, "AccountSid", "status callback"),
        error_code=int(code) if code.isdigit() else None,
    )


def inbound_of(params: Mapping[str, str]) -> InboundText:
    """An incoming-message webhook's form (MessageSid, From, To, Body, AccountSid)."""
    return InboundText(
        sid=_field(params, "MessageSid", "incoming message"),
        sender=_field(params, "From", "incoming message"),
        to=_field(params, "To", "incoming message"),
        body=params.get("Body", ""),
        account=_field(params, "AccountSid", "incoming message"),
    )


def reply(body: str | None) -> str:
    """TwiML answering an incoming message: one ``<Message>`` or none."""
    response = MessagingResponse()
    if body:
        response.message(body)
    return str(response)
