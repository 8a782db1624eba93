"""Encryption at rest for tokens and keys (Fernet), and the keyed derivations syncd needs."""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken

from syncd.errors import ConfigError


class SecretBox:
    """Encrypts with one Fernet key; ``purpose_key`` derives independent keys (links, CSRF).

    A missing or malformed key is a ConfigError naming ``setting``; a key that cannot decrypt
    what is stored is a ConfigError too — never a plaintext fallback.
    """

    def __init__(self, key: str | bytes | None, *, setting: str = "secret_key") -> None:
        if not key:
            raise ConfigError(
                setting,
                "missing: set it (or SYNCD_SECRET_KEY) to a key from `syncd init` / Fernet.generate_key()",
            )
        raw = key.encode() if isinstance(key, str) else key
        try:
            self._fernet = Fernet(raw.strip())
        except (ValueError, TypeError):
            raise ConfigError(setting, "not a valid key: expected 32 url-safe base64-encoded bytes") from None
        self._setting = setting
        self._master = base64.urlsafe_b64decode(raw.strip())

    @staticmethod
    def generate() -> str:
        return Fernet.generate_key().decode()

    def encrypt(self, plaintext: bytes) -> bytes:
        return self._fernet.encrypt(plaintext)

    def decrypt(self, ciphertext: bytes) -> bytes:
        try:
            return self._fernet.decrypt(ciphertext)
        except InvalidToken:
            raise ConfigError(
                self._setting, "cannot decrypt stored secrets: this is not the key they were written with"
            ) from None

    def purpose_key(self, purpose: str) -> bytes:
        return hmac.new(self._master, b"syncd:" + purpose.encode(), hashlib.sha256).digest()
