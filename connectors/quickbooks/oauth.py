"""intuit-oauth wrapper: discovery, code exchange, refresh-token rotation under the company's lock."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError

from syncd.errors import (
    AuthError,
    Credential,
    PermanentError,
    ReconnectNeededError,
    SyncdError,
    TransientError,
)
from syncd.ports.quickbooks import QboSettings, QboTokens, TokenStore

# Refresh this long before the access token expires, so a request never races the expiry.
REFRESH_MARGIN = timedelta(minutes=5)
SCOPES = [Scopes.ACCOUNTING]


def utcnow() -> datetime:
    return datetime.now(UTC)


class _TimedAuthClient(AuthClient):  # type: ignore[misc]
    """AuthClient whose HTTP calls (discovery, token endpoint) carry a timeout; intuit-oauth sets none."""

    timeout_seconds: float = 30.0

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout_seconds)
        response: requests.Response = super().request(method, url, *args, **kwargs)
        return response


def make_auth_client(settings: QboSettings) -> AuthClient:
    """An intuit-oauth client; construction fetches the discovery document (a simulator's, in tests)."""

    class Client(_TimedAuthClient):
        timeout_seconds = settings.timeout_seconds

    try:
        return Client(settings.client_id, settings.client_secret, settings.redirect_uri, settings.environment)
    except AuthClientError as exc:
        raise TransientError(f"QBO discovery document unavailable: HTTP {exc.status_code}") from None
    except requests.RequestException as exc:
        raise TransientError(f"QBO discovery document unreachable: {type(exc).__name__}") from None


def error_for_token_failure(exc: AuthClientError) -> SyncdError:
    """The token endpoint's refusal mapped onto the error tree; ``invalid_grant`` needs a person."""
    try:
        body = json.loads(exc.content or b"{}")
    except ValueError:
        body = {}
    code = str(body.get("error", "")) if isinstance(body, dict) else ""
    if code == "invalid_grant":
        return ReconnectNeededError("QBO refused the refresh token (invalid_grant): reconnect the company")
    if exc.status_code == 429 or exc.status_code >= 500:
        return TransientError(f"QBO token endpoint answered HTTP {exc.status_code}")
    if code == "invalid_client" or exc.status_code == 401:
        return AuthError(
            "QBO refused the app's client credentials (invalid_client)", credential=Credential.QBO_APP
        )
    return AuthError(
        f"QBO token endpoint refused the request: HTTP {exc.status_code} {code}".strip(),
        credential=Credential.QBO_CONNECTION,
    )


def tokens_from_client(client: AuthClient, now: datetime) -> QboTokens:
    """What the token endpoint just returned, as a QboTokens with absolute expiry times."""
    if not client.access_token or not client.refresh_token:
        raise PermanentError("QBO token endpoint answered without a token pair")
    refresh_ttl = client.x_refresh_token_expires_in
    return QboTokens(
        access_token=str(client.access_token),
        refresh_token=str(client.refresh_token),
        access_expires_at=now + timedelta(seconds=int(client.expires_in or 3600)),
        refresh_expires_at=now + timedelta(seconds=int(refresh_ttl)) if refresh_ttl else None,
    )


def exchange_code(client: AuthClient, code: str, realm_id: str, now: datetime) -> QboTokens:
    """Trade an authorization code for the company's first token pair."""
    try:
        client.get_bearer_token(code, realm_id=realm_id)
    except AuthClientError as exc:
        raise error_for_token_failure(exc) from None
    except requests.RequestException as exc:
        raise TransientError(f"QBO token endpoint unreachable: {type(exc).__name__}") from None
    return tokens_from_client(client, now)


class TokenManager:
    """The access token of one company, refreshed before expiry or after a 401.

    Refresh tokens rotate, so a refresh happens only under the store's refresh lock, re-loads the
    tokens first (another process may have refreshed already) and saves the new pair before the
    new access token is used.
    """

    def __init__(
        self,
        settings: QboSettings,
        realm_id: str,
        store: TokenStore,
        *,
        clock: Callable[[], datetime] = utcnow,
        auth_client_factory: Callable[[QboSettings], AuthClient] = make_auth_client,
    ) -> None:
        self.settings = settings
        self.realm_id = realm_id
        self._store = store
        self._clock = clock
        self._factory = auth_client_factory
        self._client: AuthClient | None = None
        self._tokens: QboTokens | None = None
        self._lock = threading.Lock()
        self.refreshes = 0

    def _fresh(self, tokens: QboTokens | None) -> bool:
        return tokens is not None and tokens.access_expires_at - REFRESH_MARGIN > self._clock()

    def access_token(self) -> str:
        """A usable access token, refreshing first if it is about to expire."""
        tokens = self._tokens
        if tokens is None or not self._fresh(tokens):
            with self._lock:
                if self._tokens is None:
                    self._tokens = self._store.load(self.realm_id)
                if self._tokens is None:
                    raise ReconnectNeededError(f"QBO company {self.realm_id} was never connected")
                if not self._fresh(self._tokens):
                    self._refresh_locked(rejected=None)
            tokens = self._tokens
        assert tokens is not None
        return tokens.access_token

    def refresh(self, *, rejected: str | None) -> str:
        """Refresh after QBO rejected ``rejected`` (a 401); returns the access token to retry with."""
        with self._lock:
            self._refresh_locked(rejected=rejected)
            assert self._tokens is not None
            return self._tokens.access_token

    def _refresh_locked(self, *, rejected: str | None) -> None:
        with self._store.refresh_lock(self.realm_id):
            current = self._store.load(self.realm_id)
            if current is None:
                raise ReconnectNeededError(f"QBO company {self.realm_id} was never connected")
            if current.access_token != rejected and self._fresh(current):
                # Someone else rotated the pair while we waited for the lock: use theirs.
                self._tokens = current
                return
            client = self._auth_client()
            try:
                client.refresh(refresh_token=current.refresh_token)
            except AuthClientError as exc:
                raise error_for_token_failure(exc) from None
            except requests.RequestException as exc:
                raise TransientError(f"QBO token endpoint unreachable: {type(exc).__name__}") from None
            new = tokens_from_client(client, self._clock())
            self._store.save(self.realm_id, new)
            self._tokens = new
            self.refreshes += 1

    def _auth_client(self) -> AuthClient:
        if self._client is None:
            self._client = self._factory(self.settings)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
