"""A WebAuthn authenticator in software (P-256, ``none`` attestation), for tests that run the
passkey ceremonies over HTTP without a browser: it answers the options a relying party sends as
a browser with a platform authenticator would (``navigator.credentials.create`` / ``get``)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftAuthenticator:
    """One authenticator holding one discoverable credential once ``create`` ran."""

    origin: str
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    credential_id: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    user_handle: bytes = b""
    count: int = 0

    def _client_data(self, kind: str, challenge: str) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": self.origin}).encode()

    def _cose(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
        )

    def create(self, options: dict[str, Any]) -> str:
        """The browser's answer to registration ``options`` (the relying party's JSON), as JSON."""
        self.user_handle = unb64(options["user"]["id"])
        rp_hash = hashlib.sha256(options["rp"]["id"].encode()).digest()
        attested = (
            b"\x00" * 16 + struct.pack(">H", len(self.credential_id)) + self.credential_id + self._cose()
        )
        auth_data = rp_hash + bytes([0x45]) + struct.pack(">I", self.count) + attested  # UP, UV, AT
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"])
        return json.dumps(
            {
                "id": b64(self.credential_id),
                "rawId": b64(self.credential_id),
                "type": "public-key",
                "response": {"clientDataJSON": b64(client_data), "attestationObject": b64(attestation)},
                "clientExtensionResults": {},
            }
        )

    def get(self, options: dict[str, Any], *, rp_id: str | None = None) -> str:
        """The browser's answer to authentication ``options``, signed by this credential."""
        self.count += 1
        rp_hash = hashlib.sha256((rp_id or options["rpId"]).encode()).digest()
        auth_data = rp_hash + bytes([0x05]) + struct.pack(">I", self.count)  # UP, UV
        client_data = self._client_data("webauthn.get", options["challenge"])
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = self.key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return json.dumps(
            {
                "id": b64(self.credential_id),
                "rawId": b64(self.credential_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": b64(client_data),
                    "authenticatorData": b64(auth_data),
                    "signature": b64(signature),
                    "userHandle": b64(self.user_handle),
                },
                "clientExtensionResults": {},
            }
        )
