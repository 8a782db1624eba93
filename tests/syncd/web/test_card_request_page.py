"""The card-on-file link's page over a fake backend: every sentence from the one text table, QBO
strings escaped, CSRF on the button, and the per-link limit answered as 429 with Retry-After."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.testclient import TestClient

from syncd.errors import ThrottledError
from syncd.ports.account_text import TEXT
from syncd.ports.portal import Branding
from syncd.web.card_request import CardRequestView, card_request_routes
from syncd.web.csrf import Csrf
from syncd.web.templating import Templating

EVIL = '<script>alert("x")</script>'
TOKEN = "t" * 32


class _Backend:
    def __init__(self, state: str = "open") -> None:
        self.state = state
        self.started = 0

    def view(self, link_token: str) -> CardRequestView | None:
        if link_token != TOKEN:
            return None
        brand = Branding(f"Acme {EVIL}", None, "#000000", "#ffffff", None, None, None)
        return CardRequestView(brand, f"Bob {EVIL}", f"Friday {EVIL}", self.state, "I agree.")

    def start(self, link_token: str, *, ip: str | None, user_agent: str | None) -> str:
        self.started += 1
        raise ThrottledError(TEXT["card_too_many"], retry_after=900)


def _client(backend: _Backend) -> TestClient:
    routes = card_request_routes(backend, Templating(None), Csrf(b"k" * 32))
    return TestClient(Starlette(routes=routes), follow_redirects=False)


def test_the_page_speaks_from_the_text_table_and_escapes_qbo_strings() -> None:
    with _client(_Backend()) as client:
        page = client.get(f"/c/{TOKEN}")
    assert page.status_code == 200
    assert EVIL not in page.text and "&lt;script&gt;" in page.text
    for key in ("card_open_title", "card_note", "card_agree"):
        assert TEXT[key] in page.text, key
    assert "asks you to keep a payment method on file so they" in TEXT["card_open_text"]
    assert "asks you to keep a payment method on file so they" in page.text


def test_states_and_the_limit() -> None:
    for state, key in (("saved", "card_saved_title"), ("expired", "card_expired_title")):
        with _client(_Backend(state)) as client:
            page = client.get(f"/c/{TOKEN}")
        assert TEXT[key] in page.text and 'name="csrf_token"' not in page.text
    backend = _Backend()
    with _client(backend) as client:
        page = client.get(f"/c/{TOKEN}")
        forged = client.post(f"/c/{TOKEN}/start", data={"csrf_token": "1.forged"})
        assert forged.status_code == 403 and TEXT["card_page_expired"] in forged.text
        assert backend.started == 0
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        limited = client.post(f"/c/{TOKEN}/start", data={"csrf_token": token})
    assert limited.status_code == 429 and limited.headers["retry-after"] == "900"
    assert TEXT["card_too_many"] in limited.text and backend.started == 1
