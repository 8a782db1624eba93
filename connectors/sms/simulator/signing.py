"""Twilio's webhook signature, written from its documented rule (not with the SDK, so the
connector's check is tested against an independent signer): base64 of HMAC-SHA1, keyed with the
auth token, over the full URL followed by each POST parameter's name and value, sorted by name."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping


def signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    payload = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()
