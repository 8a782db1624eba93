"""Intuit OAuth over HTTP: discovery, authorize redirect, code and refresh grants, rotation, expiry."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError

from connectors.quickbooks.simulator import QboSimulator

REDIRECT = "http://127.0.0.1:9/callback"


def _client(sim: QboSimulator, secret: str = "sim-secret") -> AuthClient:  # noqa: S107
    return AuthClient("sim-client", secret, REDIRECT, sim.discovery_url)


def _connect(sim: QboSimulator) -> tuple[AuthClient, str]:
    client = _client(sim)
    url = client.get_authorization_url([Scopes.ACCOUNTING], state_token="st-1")
    hop = requests.get(url, allow_redirects=False, timeout=5)
    assert hop.status_code == 302
    location = urlparse(hop.headers["location"])
    assert location.path == "/callback"
    query = parse_qs(location.query)
    assert query["state"] == ["st-1"] and query["realmId"] == [sim.realm_id]
    client.get_bearer_token(query["code"][0], realm_id=query["realmId"][0])
    return client, query["code"][0]


def _company_info(sim: QboSimulator, access_token: str) -> requests.Response:
    return requests.get(
        f"{sim.api_base_url}/company/{sim.realm_id}/companyinfo/{sim.realm_id}",
        headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
        timeout=5,
    )


def test_discovery_document_has_what_intuit_oauth_needs(sim: QboSimulator) -> None:
    doc = requests.get(sim.discovery_url, timeout=5).json()
    for key in (
        "authorization_endpoint",
        "token_endpoint",
        "revocation_endpoint",
        "userinfo_endpoint",
        "issuer",
        "jwks_uri",
    ):
        assert doc[key].startswith("http")


def test_code_grant_with_intuit_oauth_then_api_call(sim: QboSimulator) -> None:
    client, code = _connect(sim)
    assert client.access_token and client.refresh_token and client.expires_in == 3600
    assert _company_info(sim, client.access_token).status_code == 200
    with pytest.raises(AuthClientError) as caught:  # a code is single use
        client.get_bearer_token(code, realm_id=sim.realm_id)
    assert caught.value.status_code == 400 and caught.value.response.json() == {"error": "invalid_grant"}


def test_wrong_client_secret_is_refused(sim: QboSimulator) -> None:
    client = _client(sim, secret="wrong")
    with pytest.raises(AuthClientError) as caught:
        client.refresh(refresh_token=sim.mint_tokens()["refresh_token"])
    assert caught.value.status_code == 401


def test_refresh_rotates_and_the_old_token_dies_once_the_new_is_used(sim: QboSimulator) -> None:
    client, _ = _connect(sim)
    first = client.refresh_token
    client.refresh()
    second = client.refresh_token
    assert second != first
    replay = _client(sim)
    replay.refresh(refresh_token=first)  # still good: the new one was never used
    assert replay.refresh_token == second
    client.refresh(refresh_token=second)
    third = client.refresh_token
    assert third not in (first, second)
    for dead in (first,):
        with pytest.raises(AuthClientError) as caught:
            _client(sim).refresh(refresh_token=dead)
        assert caught.value.status_code == 400 and caught.value.response.json()["error"] == "invalid_grant"
    with pytest.raises(AuthClientError):
        _client(sim).refresh(refresh_token="never-issued")


def test_access_token_expires_by_the_simulator_clock(sim: QboSimulator, clock: Any) -> None:
    tokens = sim.mint_tokens()
    assert _company_info(sim, tokens["access_token"]).status_code == 200
    clock.advance(seconds=3601)
    expired = _company_info(sim, tokens["access_token"])
    assert expired.status_code == 401
    body = expired.json()
    assert body["fault"]["type"] == "AUTHENTICATION" and body["fault"]["error"][0]["code"] == "3200"
    refreshed = _client(sim)
    refreshed.refresh(refresh_token=tokens["refresh_token"])
    assert _company_info(sim, refreshed.access_token).status_code == 200


def test_revoke_ends_the_grant(sim: QboSimulator) -> None:
    client, _ = _connect(sim)
    access = client.access_token
    assert client.revoke(token=client.refresh_token) is True
    assert _company_info(sim, access).status_code == 401
    with pytest.raises(AuthClientError):
        _client(sim).refresh(refresh_token=client.refresh_token)


def test_token_for_another_realm_and_missing_token_are_401(sim: QboSimulator) -> None:
    sim.add_company("9130350000000002", seed=1, invoices=10)
    other = sim.mint_tokens("9130350000000002")["access_token"]
    assert _company_info(sim, other).status_code == 401
    bare = requests.get(f"{sim.api_base_url}/company/{sim.realm_id}/invoice/1", timeout=5)
    assert bare.status_code == 401 and "fault" in bare.json()


def test_discovery_lists_both_client_authentication_methods(sim: QboSimulator) -> None:
    doc = requests.get(sim.discovery_url, timeout=5).json()
    assert set(doc["token_endpoint_auth_methods_supported"]) == {"client_secret_post", "client_secret_basic"}


def _token_url(sim: QboSimulator) -> str:
    return str(requests.get(sim.discovery_url, timeout=5).json()["token_endpoint"])


def test_token_endpoint_accepts_client_secret_post(sim: QboSimulator) -> None:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": sim.mint_tokens()["refresh_token"],
        "client_id": "sim-client",
        "client_secret": "sim-secret",
    }
    answer = requests.post(_token_url(sim), data=form, timeout=5)
    assert answer.status_code == 200, answer.text
    assert _company_info(sim, answer.json()["access_token"]).status_code == 200


def test_client_secret_post_with_a_wrong_secret_or_no_credentials_is_refused(sim: QboSimulator) -> None:
    refresh = sim.mint_tokens()["refresh_token"]
    wrong = {"grant_type": "refresh_token", "refresh_token": refresh, "client_id": "sim-client"}
    assert (
        requests.post(_token_url(sim), data={**wrong, "client_secret": "nope"}, timeout=5).status_code == 401
    )
    bare = requests.post(_token_url(sim), data=wrong, timeout=5)
    assert bare.status_code == 401 and bare.json()["error"] == "invalid_client"


def test_revoke_accepts_client_secret_post(sim: QboSimulator) -> None:
    tokens = sim.mint_tokens()
    revoke_url = requests.get(sim.discovery_url, timeout=5).json()["revocation_endpoint"]
    form = {"token": tokens["refresh_token"], "client_id": "sim-client", "client_secret": "sim-secret"}
    assert requests.post(revoke_url, data=form, timeout=5).status_code == 200
    assert _company_info(sim, tokens["access_token"]).status_code == 401
