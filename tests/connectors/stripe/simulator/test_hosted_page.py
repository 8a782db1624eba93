from __future__ import annotations

import re
from typing import Any

import requests

from connectors.stripe.simulator import StripeSimulator


def _token(html: str) -> str:
    found = re.search(r"name=token value='([^']+)'", html)
    assert found is not None
    return found.group(1)


def _submit(url: str, token: str, outcome: str) -> requests.Response:
    return requests.post(url, data={"token": token, "outcome": outcome}, allow_redirects=False, timeout=5)


def test_page_shows_amount_outcomes_and_cancel_link(new_session: Any) -> None:
    session = new_session(amount=123456)
    page = requests.get(session.url, timeout=5)
    assert page.status_code == 200
    assert "1,234.56 USD" in page.text
    assert "Pay with test card 4242 4242 4242 4242" in page.text
    assert "ACH" in page.text
    assert "3-D Secure" in page.text
    assert "https://shop.example/cancel" in page.text
    assert "<script" not in page.text


def test_successful_card_payment_redirects_to_success_url(client: Any, new_session: Any) -> None:
    session = new_session()
    token = _token(requests.get(session.url, timeout=5).text)
    response = _submit(session.url, token, "card_success")
    assert response.status_code == 303
    assert response.headers["location"] == f"https://shop.example/paid?session={session.id}"
    done = client.v1.checkout.sessions.retrieve(session.id)
    assert (done.status, done.payment_status) == ("complete", "paid")


def test_decline_returns_to_page_with_message_and_session_stays_open(client: Any, new_session: Any) -> None:
    session = new_session()
    token = _token(requests.get(session.url, timeout=5).text)
    response = _submit(session.url, token, "card_declined")
    assert response.status_code == 303
    assert response.headers["location"] == f"/pay/{session.id}?error=card_declined"
    page = requests.get(session.url + "?error=card_declined", timeout=5)
    assert "Your card was declined" in page.text
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    # then a good card still works
    assert _submit(session.url, token, "card_success").status_code == 303
    assert client.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"


def test_wrong_form_token_is_refused(client: Any, new_session: Any) -> None:
    session = new_session()
    response = _submit(session.url, "forged", "card_success")
    assert response.headers["location"].endswith("error=bad_token")
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"


def test_three_d_secure_challenge_then_complete(client: Any, new_session: Any) -> None:
    session = new_session()
    token = _token(requests.get(session.url, timeout=5).text)
    assert _submit(session.url, token, "requires_action").headers["location"] == f"/pay/{session.id}"
    challenge = requests.get(session.url, timeout=5).text
    assert "Complete authentication" in challenge
    pi = client.v1.payment_intents.retrieve(client.v1.checkout.sessions.retrieve(session.id).payment_intent)
    assert pi.status == "requires_action"
    response = _submit(session.url, token, "3ds_complete")
    assert response.status_code == 303
    assert response.headers["location"].startswith("https://shop.example/paid")
    assert client.v1.payment_intents.retrieve(pi.id).status == "succeeded"


def test_failed_authentication_goes_back_with_error(client: Any, new_session: Any) -> None:
    session = new_session()
    token = _token(requests.get(session.url, timeout=5).text)
    _submit(session.url, token, "requires_action")
    response = _submit(session.url, token, "3ds_fail")
    assert response.headers["location"].endswith("error=authentication_failed")
    pi = client.v1.payment_intents.retrieve(client.v1.checkout.sessions.retrieve(session.id).payment_intent)
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error.code == "payment_intent_authentication_failure"


def test_qbo_text_is_escaped(checkout_params: Any, client: Any) -> None:
    params = checkout_params()
    params["line_items"][0]["price_data"]["product_data"]["name"] = "<script>alert(1)</script>"
    session = client.v1.checkout.sessions.create(params=params)
    page = requests.get(session.url, timeout=5).text
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;" in page


def test_card_only_session_offers_no_bank_and_refuses_ach(sim: StripeSimulator, new_session: Any) -> None:
    session = new_session(allowed_payment_method_types=["card"])
    page = requests.get(session.url, timeout=5).text
    assert "ACH" not in page
    token = _token(page)
    assert _submit(session.url, token, "ach_success").headers["location"].endswith("error=unavailable")


def test_completed_and_unknown_pages(sim: StripeSimulator, new_session: Any) -> None:
    session = new_session()
    sim.pay_checkout(session.id, "card_success")
    assert "is complete" in requests.get(session.url, timeout=5).text
    assert requests.get(f"{sim.url}/pay/cs_test_nope", timeout=5).status_code == 404
