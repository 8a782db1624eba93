"""One recipient address, checked before a message is built or sent: a bad one is permanent."""

from __future__ import annotations

import re

from syncd.errors import PermanentError

# A plain addr-spec (dot-atom local part, DNS domain): no display name, no list, no whitespace or
# control characters, so a value from QBO can never carry a second header or recipient.
_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
# ``Name <addr-spec>`` (a staff address may carry a name): nothing in the name that ends a header
# or starts another address.
_NAMED = re.compile(r"[^<>,;\x00-\x1f\x7f]*<(?P<spec>[^<>]*)>")
MAX_LENGTH = 254  # RFC 5321's limit on a forward path


def recipient(address: str) -> str:
    """``address`` stripped of surrounding spaces, or PermanentError naming it (escaped, one line)."""
    candidate = address.strip()
    named = _NAMED.fullmatch(candidate)
    spec = named.group("spec") if named else candidate
    if len(spec) > MAX_LENGTH or not _ADDRESS.fullmatch(spec):
        raise PermanentError(f"invalid recipient address {address!r}: fix the customer's email in QuickBooks")
    return candidate
