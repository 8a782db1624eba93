"""`syncd connect quickbooks`: authorization URL, state check, paste and local-listener flows."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from loopback import free_port

from connectors.quickbooks.client import QboConnector
from connectors.quickbooks.connect import authorization_url, parse_redirect, run_connect_flow
from syncd.errors import PermanentError


def consent(url: str) -> str:
    """Play the browser: the simulator auto-consents and redirects; return where it sent us."""
    answer = requests.get(url, allow_redirects=False, timeout=10)
    assert answer.status_code in (302, 303, 307)
    return str(answer.headers["Location"])


def test_authorization_url_carries_client_scope_and_state(sim: Any, settings_for: Callable[..., Any]) -> None:
    url = authorization_url(settings_for(sim), "st-123")
    query = parse_qs(urlsplit(url).query)
    assert query["state"] == ["st-123"] and query["client_id"] == ["sim-client"]
    assert query["scope"] == ["com.intuit.quickbooks.accounting"] and query["response_type"] == ["code"]


def test_parse_redirect_checks_state() -> None:
    assert parse_redirect("http://x/cb?code=C&state=S&realmId=R", "S") == ("C", "R")
    with pytest.raises(PermanentError, match="state"):
        parse_redirect("http://x/cb?code=C&state=EVIL&realmId=R", "S")
    with pytest.raises(PermanentError, match="state"):
        parse_redirect("http://x/cb?code=C&realmId=R", "S")
    with pytest.raises(PermanentError, match="refused"):
        parse_redirect("http://x/cb?error=access_denied&state=S", "S")


def test_paste_flow_connects_and_stores_tokens(
    sim: Any,
    token_store: Any,
    settings_for: Callable[..., Any],
    make_sim_connector: Callable[..., QboConnector],
) -> None:
    printed: list[str] = []

    def paste(prompt: str) -> str:
        return consent(printed[0].splitlines()[-1])

    realm = run_connect_flow(
        settings_for(sim), token_store, open_listener=False, input_fn=paste, output_fn=printed.append
    )
    assert realm == sim.realm_id
    assert token_store.load(realm) is not None
    assert make_sim_connector(sim, token_store).company_info().realm_id == realm


def test_paste_flow_refuses_a_forged_state(
    sim: Any, token_store: Any, settings_for: Callable[..., Any]
) -> None:
    printed: list[str] = []

    def paste(prompt: str) -> str:
        redirected = consent(printed[0].splitlines()[-1])
        return redirected.replace("state=", "state=forged")

    with pytest.raises(PermanentError):
        run_connect_flow(
            settings_for(sim), token_store, open_listener=False, input_fn=paste, output_fn=printed.append
        )
    assert token_store.load(sim.realm_id) is None


def test_listener_flow_catches_the_redirect(
    sim: Any, token_store: Any, settings_for: Callable[..., Any]
) -> None:
    settings = settings_for(sim, redirect_uri=f"http://127.0.0.1:{free_port()}/callback")
    browser: list[threading.Thread] = []
    pages: list[str] = []

    def show(text: str) -> None:
        if text.startswith("Open"):

            def visit() -> None:
                pages.append(requests.get(text.splitlines()[-1], timeout=10).text)

            browser.append(threading.Thread(target=visit))
            browser[0].start()

    realm = run_connect_flow(
        settings, token_store, open_listener=True, input_fn=lambda _: "", output_fn=show, timeout=20
    )
    browser[0].join(10)
    assert realm == sim.realm_id and token_store.load(realm) is not None
    assert "connected" in pages[0]
