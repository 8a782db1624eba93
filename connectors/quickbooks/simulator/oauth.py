"""Intuit OAuth 2.0 as the simulator plays it: codes, access tokens, rotating refresh tokens, revocation."""

from __future__ import annotations

import base64
import hmac
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote_plus

ACCESS_TTL = timedelta(seconds=3600)
REFRESH_TTL = timedelta(seconds=8_726_400)
CODE_TTL = timedelta(minutes=5)


class OAuthError(Exception):
    """An OAuth failure as the token endpoint reports it: ``{"error": ...}`` with an HTTP status."""

    def __init__(self, error: str, status: int = 400, description: str | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.description = description

    def body(self) -> dict[str, str]:
        out = {"error": self.error}
        if self.description:
            out["error_description"] = self.description
        return out


@dataclass(slots=True)
class _Refresh:
    realm_id: str
    expires_at: datetime
    successor: str | None = None
    used: bool = False


@dataclass(slots=True)
class _Code:
    realm_id: str
    redirect_uri: str
    expires_at: datetime


class TokenAuthority:
    """Issues and checks tokens for every realm of one simulated app (one client id/secret)."""

    def __init__(self, client_id: str, client_secret: str, now: Callable[[], datetime]) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.now = now
        self._lock = threading.Lock()
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, tuple[str, datetime]] = {}
        self._refresh: dict[str, _Refresh] = {}

    # --- client authentication ----------------------------------------------------------------
    def check_client(self, authorization: str | None, form: dict[str, str] | None = None) -> None:
        """Client authentication by either method the discovery document lists: HTTP Basic
        (``client_secret_basic``) or ``client_id``/``client_secret`` in the form (``client_secret_post``)."""
        form = form or {}
        if authorization and authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
            except (ValueError, UnicodeDecodeError) as exc:
                raise OAuthError("invalid_client", 401) from exc
            raw_id, _, raw_secret = decoded.partition(":")
            # RFC 6749 2.3.1: both halves are form-urlencoded before the Basic encoding.
            client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
        elif "client_secret" in form:
            client_id, secret = form.get("client_id", ""), form["client_secret"]
        else:
            raise OAuthError(
                "invalid_client",
                401,
                "client authentication is required (client_secret_basic or client_secret_post)",
            )
        ok_id = hmac.compare_digest(client_id.encode(), self.client_id.encode())
        ok_secret = hmac.compare_digest(secret.encode(), self.client_secret.encode())
        if not (ok_id and ok_secret):
            raise OAuthError("invalid_client", 401)

    # --- grants -------------------------------------------------------------------------------
    def issue_code(self, realm_id: str, redirect_uri: str) -> str:
        code = "AB11" + secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Code(realm_id, redirect_uri, self.now() + CODE_TTL)
        return code

    def exchange_code(self, code: str, redirect_uri: str | None) -> tuple[str, dict[str, Any]]:
        with self._lock:
            grant = self._codes.pop(code, None)
            if grant is None or grant.expires_at < self.now():
                raise OAuthError("invalid_grant")
            if redirect_uri is not None and redirect_uri != grant.redirect_uri:
                raise OAuthError("invalid_grant", description="redirect_uri does not match the authorization")
            return grant.realm_id, self._mint(grant.realm_id, None)

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        """Rotate: the new refresh token retires the old one the first time it is itself used."""
        with self._lock:
            now = self.now()
            record = self._refresh.get(refresh_token)
            if record is None or record.expires_at <= now:
                raise OAuthError("invalid_grant")
            if record.successor is not None:
                successor = self._refresh.get(record.successor)
                if successor is None or successor.used:
                    raise OAuthError("invalid_grant")
                # The old token still answers, with the same successor, until that one is used.
                return self._mint(record.realm_id, record.successor)
            record.used = True
            for older in self._refresh.values():
                if older.successor == refresh_token:
                    older.expires_at = now  # retired: its successor has now been used
            return self._mint(record.realm_id, None, parent=record)

    def _mint(
        self, realm_id: str, refresh_token: str | None, parent: _Refresh | None = None
    ) -> dict[str, Any]:
        now = self.now()
        access = "eyJsaW0iOiJxYm8ifQ." + secrets.token_urlsafe(48)
        self._access[access] = (realm_id, now + ACCESS_TTL)
        if refresh_token is None:
            refresh_token = "RT1-" + secrets.token_urlsafe(36)
            self._refresh[refresh_token] = _Refresh(realm_id, now + REFRESH_TTL)
            if parent is not None:
                parent.successor = refresh_token
        remaining = int((self._refresh[refresh_token].expires_at - now).total_seconds())
        return {
            "token_type": "bearer",
            "expires_in": int(ACCESS_TTL.total_seconds()),
            "refresh_token": refresh_token,
            "x_refresh_token_expires_in": remaining,
            "access_token": access,
        }

    def mint(self, realm_id: str) -> dict[str, Any]:
        with self._lock:
            return self._mint(realm_id, None)

    def revoke(self, token: str) -> None:
        """Revoking either token of a grant ends the realm's whole grant, as Intuit does."""
        with self._lock:
            realm = None
            if token in self._refresh:
                realm = self._refresh[token].realm_id
            elif token in self._access:
                realm = self._access[token][0]
            if realm is None:
                return
            self._refresh = {k: v for k, v in self._refresh.items() if v.realm_id != realm}
            self._access = {k: v for k, v in self._access.items() if v[0] != realm}

    # --- resource server ----------------------------------------------------------------------
    def realm_of(self, access_token: str) -> str | None:
        """The realm a live access token is for, or None if unknown or expired."""
        with self._lock:
            entry = self._access.get(access_token)
            if entry is None or entry[1] <= self.now():
                return None
            return entry[0]

    def expire_access_tokens(self) -> None:
        with self._lock:
            now = self.now()
            self._access = {k: (realm, min(at, now)) for k, (realm, at) in self._access.items()}


def discovery_document(base_url: str) -> dict[str, Any]:
    """The OpenID configuration intuit-oauth reads at construction."""
    return {
        "issuer": f"{base_url}/oauth2/v1/op/v1",
        "authorization_endpoint": f"{base_url}/connect/oauth2",
        "token_endpoint": f"{base_url}/oauth2/v1/tokens/bearer",
        "userinfo_endpoint": f"{base_url}/v1/openid_connect/userinfo",
        "revocation_endpoint": f"{base_url}/oauth2/v1/tokens/revoke",
        "jwks_uri": f"{base_url}/oauth2/v1/keys",
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": [
            "openid",
            "email",
            "profile",
            "address",
            "phone",
            "com.intuit.quickbooks.accounting",
            "com.intuit.quickbooks.payment",
        ],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
    }
