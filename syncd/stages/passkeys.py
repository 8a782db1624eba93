"""Passkeys (WebAuthn, py_webauthn): register one while signed in, sign in with it next time.

Each ceremony's challenge is a single-use account token (kind ``pk-register`` / ``pk-sign-in``,
five minutes), stored as its digest and used up by the verification that presents it, so an
assertion cannot be replayed. The relying party is the host of ``web.public_url``.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import webauthn
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, parse_client_data_json
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from syncd.context import Context
from syncd.store import accounts
from syncd.store.models import Passkey

REGISTER = accounts.TokenKind.PASSKEY_REGISTER
SIGN_IN = accounts.TokenKind.PASSKEY_SIGN_IN


def _rp(ctx: Context) -> tuple[str, str]:
    """(rp id, origin) from the public URL."""
    parts = urlsplit(ctx.settings.public_url)
    return parts.hostname or "localhost", f"{parts.scheme}://{parts.netloc}"


def _remember(ctx: Context, challenge: bytes, kind: accounts.TokenKind, email: str | None) -> None:
    with ctx.db.transaction() as session:
        accounts.record_token(
            session,
            token_digest=accounts.digest(bytes_to_base64url(challenge)),
            kind=kind,
            now=ctx.clock(),
            lifetime=accounts.CHALLENGE_LIFETIME,
            email=email,
        )


@dataclass(frozen=True, slots=True)
class _Used:
    """A ceremony's challenge, used up, with whom it was issued to."""

    challenge: bytes
    email: str | None
    rp_id: str
    origin: str

    def expected(self) -> dict[str, Any]:
        """What the browser's response must match, as py_webauthn's verifiers name it."""
        return {
            "expected_challenge": self.challenge,
            "expected_rp_id": self.rp_id,
            "expected_origin": self.origin,
        }


def _use_challenge(ctx: Context, client_data: str, kind: accounts.TokenKind) -> _Used | None:
    """The challenge the browser signed, used up now, and whom it was issued to."""
    try:
        challenge = parse_client_data_json(base64url_to_bytes(client_data)).challenge
    except Exception:  # any malformed client data is simply not a sign-in
        return None
    with ctx.db.transaction() as session:
        row = accounts.consume(session, accounts.digest(bytes_to_base64url(challenge)), kind, ctx.clock())
        if row is None:
            return None
        email = row.email
    return _Used(challenge, email, *_rp(ctx))


def register_options(ctx: Context, email: str) -> str:
    rp_id, _ = _rp(ctx)
    with ctx.db.transaction() as session:
        existing = [p.credential_id for p in accounts.passkeys_of(session, email)]
    options = webauthn.generate_registration_options(
        rp_id=rp_id,
        rp_name="syncd customer account",
        user_name=email,
        user_id=accounts.digest(f"user:{email}").encode()[:32],
        challenge=secrets.token_bytes(32),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(c)) for c in existing],
    )
    _remember(ctx, options.challenge, REGISTER, email)
    return webauthn.options_to_json(options)


def register(ctx: Context, email: str, credential_json: str) -> bool:
    try:
        client_data = str(json.loads(credential_json)["response"]["clientDataJSON"])
    except (ValueError, KeyError, TypeError):
        return False
    used = _use_challenge(ctx, client_data, REGISTER)
    if used is None or used.email != email:
        return False
    try:
        verified = webauthn.verify_registration_response(credential=credential_json, **used.expected())
    except (InvalidRegistrationResponse, ValueError, KeyError, TypeError):
        return False
    with ctx.db.transaction() as session:
        session.add(
            Passkey(
                credential_id=bytes_to_base64url(verified.credential_id),
                email=email,
                public_key=verified.credential_public_key,
                sign_count=verified.sign_count,
                created_at=ctx.clock(),
            )
        )
    return True


def sign_in_options(ctx: Context) -> str:
    rp_id, _ = _rp(ctx)
    # Discoverable credentials: the browser offers the person's passkeys; no address is asked, so
    # the options reveal nothing about who has one.
    options = webauthn.generate_authentication_options(
        rp_id=rp_id,
        challenge=secrets.token_bytes(32),
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    _remember(ctx, options.challenge, SIGN_IN, None)
    return webauthn.options_to_json(options)


def sign_in(ctx: Context, credential_json: str) -> str | None:
    """The email of the person whose passkey signed the challenge, or None."""
    try:
        body = json.loads(credential_json)
        credential_id = str(body["id"])
        client_data = str(body["response"]["clientDataJSON"])
    except (ValueError, KeyError, TypeError):
        return None
    with ctx.db.transaction() as session:
        key = session.get(Passkey, credential_id)
        if key is None:
            return None
        public_key, count, email = key.public_key, key.sign_count, key.email
    used = _use_challenge(ctx, client_data, SIGN_IN)
    if used is None:
        return None
    try:
        verified = webauthn.verify_authentication_response(
            credential=credential_json,
            credential_public_key=public_key,
            credential_current_sign_count=count,
            **used.expected(),
        )
    except (InvalidAuthenticationResponse, ValueError, KeyError, TypeError):
        return None
    with ctx.db.transaction() as session:
        key = session.get(Passkey, credential_id)
        if key is None:
            return None
        key.sign_count = verified.new_sign_count
        key.last_used_at = ctx.clock()
    return email


def remove(ctx: Context, email: str, credential_id: str) -> bool:
    with ctx.db.transaction() as session:
        key = session.get(Passkey, credential_id)
        if key is None or key.email != email:
            return False
        session.delete(key)
        return True
