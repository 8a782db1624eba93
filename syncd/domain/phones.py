"""Phone numbers as syncd stores them: E.164, parsed with the company's country as the default."""

from __future__ import annotations

import phonenumbers


class InvalidPhoneError(ValueError):
    """Not a number a text can be sent to; the message names the number and what to do."""


def e164(text: str, region: str) -> str:
    """``text`` as an E.164 number (``+15551234567``), read as a number of ``region`` (ISO 3166
    alpha-2, e.g. ``US``) unless it starts with ``+``. Raises InvalidPhoneError when it is not a
    valid number of any country."""
    cleaned = text.strip()
    if not cleaned:
        raise InvalidPhoneError("no phone number given")
    try:
        parsed = phonenumbers.parse(cleaned, region.upper())
    except phonenumbers.NumberParseException:
        raise InvalidPhoneError(
            f"{cleaned!r} is not a phone number: write it with its country code, e.g. +1 555 123 4567"
        ) from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneError(f"{cleaned!r} is not a valid {region.upper()} or international phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def maybe_e164(text: str | None, region: str) -> str | None:
    """``e164`` for a number that may be missing or wrong (QBO data): None instead of an error."""
    if not text:
        return None
    try:
        return e164(text, region)
    except InvalidPhoneError:
        return None


def masked(number: str) -> str:
    """A number for logs and staff lists: the last four digits only."""
    return f"…{number[-4:]}" if len(number) > 4 else "…"
