"""The WebAuthn ceremonies (py_webauthn) without any storage: options to send, responses to verify.

Customers (``syncd.stages.passkeys``) and staff (``syncd.web.staff.passkeys``) each keep their own
keys and single-use challenges; both build options and verify answers here. Every function that
reads a browser's answer treats it as hostile: anything malformed or unverified is None.
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


@dataclass(frozen=True, slots=True)
class RelyingParty:
    """Who the credentials are for: the host of ``web.public_url`` and its origin."""

    rp_id: str
    origin: str

    @classmethod
    def of(cls, public_url: str) -> RelyingParty:
        parts = urlsplit(public_url)
        return cls(parts.hostname or "localhost", f"{parts.scheme}://{parts.netloc}")

    def expected(self, challenge: bytes) -> dict[str, Any]:
        """What the browser's response must match, as py_webauthn's verifiers name it."""
        return {"expected_challenge": challenge, "expected_rp_id": self.rp_id, "expected_origin": self.origin}


@dataclass(frozen=True, slots=True)
class Options:
    """A ceremony's options as JSON for the browser, and the challenge to remember (once)."""

    challenge: bytes
    json: str

    @property
    def challenge_text(self) -> str:
        """The challenge as the browser will echo it (base64url): what a store keys on."""
        return bytes_to_base64url(self.challenge)


@dataclass(frozen=True, slots=True)
class Registered:
    """A verified new credential, ready to store."""

    credential_id: str  # base64url
    public_key: bytes
    sign_count: int


def registration_options(
    rp: RelyingParty, *, rp_name: str, user_name: str, user_id: bytes, existing: list[str]
) -> Options:
    """Options to create a discoverable credential; ``existing`` (base64url ids) are excluded."""
    options = webauthn.generate_registration_options(
        rp_id=rp.rp_id,
        rp_name=rp_name,
        user_name=user_name,
        user_id=user_id,
        challenge=secrets.token_bytes(32),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(c)) for c in existing],
    )
    return Options(options.challenge, webauthn.options_to_json(options))


def authentication_options(rp: RelyingParty) -> Options:
    """Options to sign in with any discoverable credential: no name is asked, so the options
    reveal nothing about who has one."""
    options = webauthn.generate_authentication_options(
        rp_id=rp.rp_id,
        challenge=secrets.token_bytes(32),
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return Options(options.challenge, webauthn.options_to_json(options))


@dataclass(frozen=True, slots=True)
class Answer:
    """The parts of a browser's answer a store looks up before verifying it."""

    credential_id: str
    challenge: bytes
    raw: str

    @property
    def challenge_text(self) -> str:
        return bytes_to_base64url(self.challenge)


def read_answer(credential_json: str) -> Answer | None:
    """The credential id and the challenge the browser signed, or None when malformed."""
    try:
        body = json.loads(credential_json)
        credential_id = str(body["id"])
        client_data = str(body["response"]["clientDataJSON"])
        challenge = parse_client_data_json(base64url_to_bytes(client_data)).challenge
    except Exception:  # any malformed answer is simply not a ceremony
        return None
    return Answer(credential_id, challenge, credential_json)


def verify_registration(rp: RelyingParty, answer: Answer) -> Registered | None:
    """The new credential when the answer signs the challenge for this relying party."""
    try:
        verified = webauthn.verify_registration_response(
            credential=answer.raw, **rp.expected(answer.challenge)
        )
    except (InvalidRegistrationResponse, ValueError, KeyError, TypeError):
        return None
    return Registered(
        bytes_to_base64url(verified.credential_id), verified.credential_public_key, verified.sign_count
    )


def verify_authentication(rp: RelyingParty, answer: Answer, public_key: bytes, sign_count: int) -> int | None:
    """The credential's new sign count when the answer is a valid assertion, else None."""
    try:
        verified = webauthn.verify_authentication_response(
            credential=answer.raw,
            credential_public_key=public_key,
            credential_current_sign_count=sign_count,
            **rp.expected(answer.challenge),
        )
    except (InvalidAuthenticationResponse, ValueError, KeyError, TypeError):
        return None
    return int(verified.new_sign_count)
