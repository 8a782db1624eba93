"""The hosted payment page ``/pay/{cs_id}``: plain HTML (no JavaScript) with a test-outcome picker,
a per-session form token, 303 to ``success_url`` on payment and back to the page on a decline."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from html import escape
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from connectors.stripe.simulator.checkout_flow import pay
from connectors.stripe.simulator.currency import format_amount
from connectors.stripe.simulator.errors import ApiError
from connectors.stripe.simulator.payment_methods import DEFAULT_EXPIRY
from connectors.stripe.simulator.state import SimState

JsonDict = dict[str, Any]

CARD_CHOICES = (
    ("card_success", "Pay with test card 4242 4242 4242 4242 (succeeds)"),
    ("card_declined", "Test card 4000 0000 0000 0002 (declined)"),
    ("insufficient_funds", "Test card 4000 0000 0000 9995 (insufficient funds)"),
    ("requires_action", "Test card 4000 0027 6000 3184 (3-D Secure required)"),
)
BANK_CHOICES = (
    ("ach_success", "US bank account (ACH) — settles after 4 business days"),
    ("ach_failure", "US bank account (ACH) — fails after processing"),
    ("ach_return", "US bank account (ACH) — succeeds, then returned later"),
)
SAVE_CHOICES = (
    ("card_success", "Save test card 4242 4242 4242 4242 (Visa)"),
    ("card_mastercard", "Save test card 5555 5555 5555 4444 (Mastercard)"),
    ("card_declined", "Test card 4000 0000 0000 0002 (declined)"),
)
SAVE_BANK_CHOICES = (("ach_success", "Save a US bank account (STRIPE TEST BANK, ending 6789)"),)
ERRORS = {
    "card_declined": "Your card was declined. Try another payment method.",
    "insufficient_funds": "Your card has insufficient funds. Try another payment method.",
    "authentication_failed": "We are unable to authenticate your payment method. Try again.",
    "bad_token": "This payment form is no longer valid. Please try again.",
    "unavailable": "This payment method is not available here.",
}

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;color:#1a1f36}"
    ".amount{font-size:2rem;font-weight:600}.error{color:#b42318;background:#fef3f2;padding:.5rem}"
    "label{display:block;margin:.4rem 0}button{font-size:1rem;padding:.5rem 1rem;margin-top:1rem}"
)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width'><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def _outcome_radios(
    session: JsonDict, card: Sequence[tuple[str, str]], bank: Sequence[tuple[str, str]]
) -> str:
    """One radio per test outcome the session's method types allow, the first one checked."""
    choices = [*card] if "card" in session["payment_method_types"] else []
    if "us_bank_account" in session["payment_method_types"]:
        choices.extend(bank)
    return "".join(
        f"<label><input type=radio name=outcome value={value}{' checked' if i == 0 else ''}> "
        f"{escape(label)}</label>"
        for i, (value, label) in enumerate(choices)
    )


def _setup_form(session: JsonDict, token: str) -> str:
    """Setup mode: choose a test method to save and type the card's expiry, as a payer would."""
    radios = _outcome_radios(session, SAVE_CHOICES, SAVE_BANK_CHOICES)
    month, year = DEFAULT_EXPIRY
    return (
        f"<form method=post action='/pay/{escape(str(session['id']))}'>"
        f"<input type=hidden name=token value='{escape(token)}'>"
        f"<fieldset><legend>Payment method to save</legend>{radios}</fieldset>"
        f"<label>Card expiry month <input name=exp_month value={month} inputmode=numeric></label>"
        f"<label>Card expiry year <input name=exp_year value={year} inputmode=numeric></label>"
        "<button type=submit>Save</button></form>"
    )


def _expiry(form: dict[str, str]) -> tuple[int, int]:
    try:
        month, year = int(form.get("exp_month", "")), int(form.get("exp_year", ""))
    except ValueError:
        return DEFAULT_EXPIRY
    return (month, year) if 1 <= month <= 12 and 2000 <= year <= 2100 else DEFAULT_EXPIRY


def render(state: SimState, session: JsonDict, error: str | None) -> HTMLResponse:
    if session["mode"] == "setup":
        return _render_setup(state, session, error)
    sid = escape(str(session["id"]))
    amount = format_amount(int(session["amount_total"]), str(session["currency"]))
    items = "".join(
        f"<li>{escape(str(i['description']))} x {int(i['quantity'])}</li>"
        for i in state.store.note(session["id"])["line_items"]
    )
    parts = [
        "<h1>Simulated Stripe Checkout</h1>",
        f"<p class=amount data-testid=amount>{escape(amount)}</p><ul>{items}</ul>",
    ]
    if error in ERRORS:
        parts.append(f"<p class=error role=alert>{escape(ERRORS[error])}</p>")
    token = escape(str(state.store.note(session["id"])["form_token"]))
    pi = state.store.find(str(session["payment_intent"])) if session["payment_intent"] else None
    if session["status"] != "open":
        parts.append(f"<p data-testid=status>This checkout session is {escape(str(session['status']))}.</p>")
    elif pi is not None and pi["status"] == "requires_action":
        parts.append(
            f"<form method=post action='/pay/{sid}'><input type=hidden name=token value='{token}'>"
            "<p>Your bank asks you to confirm this payment (3-D Secure test challenge).</p>"
            "<button name=outcome value=3ds_complete>Complete authentication</button> "
            "<button name=outcome value=3ds_fail>Fail authentication</button></form>"
        )
    else:
        radios = _outcome_radios(session, CARD_CHOICES, BANK_CHOICES)
        parts.append(
            f"<form method=post action='/pay/{sid}'><input type=hidden name=token value='{token}'>"
            f"<fieldset><legend>Test payment outcome</legend>{radios}</fieldset>"
            f"<button type=submit>Pay {escape(amount)}</button></form>"
        )
        if session["cancel_url"]:
            parts.append(f"<p><a href='{escape(str(session['cancel_url']))}'>Cancel and go back</a></p>")
    return _page(f"Pay {amount}", "".join(parts))


def _render_setup(state: SimState, session: JsonDict, error: str | None) -> HTMLResponse:
    parts = ["<h1>Simulated Stripe Checkout</h1>", "<p data-testid=purpose>Save a payment method</p>"]
    if error in ERRORS:
        parts.append(f"<p class=error role=alert>{escape(ERRORS[error])}</p>")
    if session["status"] != "open":
        parts.append(f"<p data-testid=status>This checkout session is {escape(str(session['status']))}.</p>")
    else:
        parts.append(_setup_form(session, str(state.store.note(session["id"])["form_token"])))
        if session["cancel_url"]:
            parts.append(f"<p><a href='{escape(str(session['cancel_url']))}'>Cancel and go back</a></p>")
    return _page("Save a payment method", "".join(parts))


def success_target(session: JsonDict) -> str:
    url = session["success_url"]
    if not url:
        return f"/pay/{session['id']}"
    return str(url).replace("{CHECKOUT_SESSION_ID}", str(session["id"]))


async def get_page(request: Request, state: SimState) -> Response:
    session_id = request.path_params["session_id"]
    with state.lock:
        session = state.store.find(session_id)
        if session is None or session["object"] != "checkout.session":
            return _page("Not found", "<h1>This payment page does not exist.</h1>", 404)
        return render(state, session, request.query_params.get("error"))


async def post_page(request: Request, state: SimState, after: Any) -> Response:
    session_id = request.path_params["session_id"]
    form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
    with state.lock:
        session = state.store.find(session_id)
        if session is None or session["object"] != "checkout.session":
            return _page("Not found", "<h1>This payment page does not exist.</h1>", 404)
        expected = str(state.store.note(session_id)["form_token"])
        if not hmac.compare_digest(form.get("token", "").encode(), expected.encode()):
            return _back(session_id, "bad_token")
        outcome = form.get("outcome", "")
        try:
            result = pay(state, session, outcome, _expiry(form))
        except ApiError:
            return _back(session_id, "unavailable")
        finally:
            after()
        if result.status in ("paid", "processing", "saved"):
            return RedirectResponse(success_target(session), status_code=303)
        if result.status == "declined":
            code = {"insufficient_funds": "insufficient_funds", "3ds_fail": "authentication_failed"}.get(
                outcome, "card_declined"
            )
            return _back(session_id, code)
        return _back(session_id, None)


def _back(session_id: str, error: str | None) -> RedirectResponse:
    query = f"?{urlencode({'error': error})}" if error else ""
    return RedirectResponse(f"/pay/{session_id}{query}", status_code=303)
