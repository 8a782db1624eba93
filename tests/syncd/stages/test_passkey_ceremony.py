"""The customer passkeys over the shared WebAuthn ceremonies, with a software authenticator:
registered for the signed-in email, signing in as it once per challenge, refused for another
email's challenge, another origin or a malformed answer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from soft_authenticator import SoftAuthenticator
from staff_console import Clock, console_context

from syncd.context import Context
from syncd.stages import passkey_ceremony as ceremony
from syncd.stages import passkeys

EMAIL = "payer@example.com"


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[Context]:
    yield from console_context(tmp_path, Clock())


def test_register_then_sign_in_once_per_challenge(ctx: Context) -> None:
    key = SoftAuthenticator("http://testserver")
    made = key.create(json.loads(passkeys.register_options(ctx, EMAIL)))
    assert not passkeys.register(ctx, "someone@else.com", made)  # issued to another email: used up
    made = key.create(json.loads(passkeys.register_options(ctx, EMAIL)))
    assert passkeys.register(ctx, EMAIL, made)
    assert not passkeys.register(ctx, EMAIL, made)  # the challenge answered once

    answer = key.get(json.loads(passkeys.sign_in_options(ctx)))
    assert passkeys.sign_in(ctx, answer) == EMAIL
    assert passkeys.sign_in(ctx, answer) is None  # replayed

    phished = SoftAuthenticator("http://evil.example", key=key.key, credential_id=key.credential_id)
    assert passkeys.sign_in(ctx, phished.get(json.loads(passkeys.sign_in_options(ctx)))) is None
    for junk in ("", "{}", "[1]", json.dumps({"id": "x", "response": {"clientDataJSON": "@@"}})):
        assert passkeys.sign_in(ctx, junk) is None and not passkeys.register(ctx, EMAIL, junk)


def test_relying_party_is_the_public_url_host() -> None:
    rp = ceremony.RelyingParty.of("https://pay.example.com:8443/base")
    assert (rp.rp_id, rp.origin) == ("pay.example.com", "https://pay.example.com:8443")
