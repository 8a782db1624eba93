"""The phone page: each customer number's texts as a phone shows them, and a box to reply.

A reply is what a text from that phone does at Twilio: it is stored as an inbound message,
posted (signed) to the business number's Messaging webhook, and the TwiML ``<Message>`` the
webhook answers with comes back to the phone. Typing STOP here is how the demo and the browser
tests opt a customer out."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from connectors.sms.simulator.state import Message, State

_STYLE = """
body{font:16px/1.4 system-ui,sans-serif;margin:0;background:#eef1f4;color:#111}
main{max-width:420px;margin:0 auto;padding:12px}
h1{font-size:1.15rem;margin:.2rem 0 .8rem}
ul{list-style:none;padding:0;margin:0}
li.msg{max-width:85%;margin:.35rem 0;padding:.5rem .7rem;border-radius:14px;word-wrap:break-word}
li.in{background:#fff;margin-right:auto}
li.out{background:#1f6feb;color:#fff;margin-left:auto}
li.msg small{display:block;opacity:.7;font-size:.75rem}
form{display:flex;gap:.4rem;margin-top:1rem}
input[type=text]{flex:1;font-size:1rem;padding:.6rem;border:1px solid #999;border-radius:20px}
button{font-size:1rem;padding:.6rem 1rem;border:0;border-radius:20px;background:#1f6feb;color:#fff}
a{color:#1f6feb}
"""
_TWIML_MESSAGE = re.compile(r"<Message[^>]*>(.*?)</Message>", re.S)


def _page(title: str, body: str, refresh: bool = False) -> HTMLResponse:
    meta = '<meta http-equiv="refresh" content="3">' if refresh else ""
    return HTMLResponse(
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"{meta}<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def _bubble(message: Message, phone: str) -> str:
    side = "out" if message.from_ == phone else "in"  # as the phone sees it
    status = message.status if message.direction != "inbound" else "sent"
    return (
        f'<li class="msg {side}" data-sid="{message.sid}" data-status="{status}">'
        f"{html.escape(message.body)}<small>{html.escape(message.from_)} · {status}</small></li>"
    )


class PhonePage:
    """``webhook_for(business number)`` is the URL its incoming texts are posted to (or None);
    ``post`` sends a signed form and returns (HTTP status, body)."""

    def __init__(
        self,
        state: State,
        default_number: str,
        webhook_for: Callable[[str], str | None],
        post: Callable[[str, dict[str, str]], tuple[int, str]],
    ) -> None:
        self.state = state
        self.default_number = default_number
        self.webhook_for = webhook_for
        self.post = post

    async def index(self, request: Request) -> Response:
        items = "".join(
            f'<li><a href="/phone/{quote(n)}">{html.escape(n)}</a> ({len(self.state.thread(n))})</li>'
            for n in self.state.numbers()
        )
        return _page("Phones", f"<h1>Phones</h1><ul>{items or '<li>No texts yet.</li>'}</ul>", refresh=True)

    async def phone(self, request: Request) -> Response:
        number = request.path_params["number"]
        bubbles = "".join(_bubble(m, number) for m in self.state.thread(number))
        form = (
            f'<form method="post" action="/phone/{quote(number)}/reply">'
            '<input type="text" name="body" aria-label="Text message" placeholder="Text message" '
            'autocomplete="off" required><button type="submit">Send</button></form>'
        )
        head = f'<p><a href="/phone">All phones</a></p><h1>{html.escape(number)}</h1>'
        return _page(number, f"{head}<ul id=thread>{bubbles}</ul>{form}")

    async def reply(self, request: Request) -> Response:
        number = request.path_params["number"]
        body = str((await request.form()).get("body") or "").strip()
        if body:
            self.text_from(number, body)
        return RedirectResponse(f"/phone/{quote(number)}", status_code=303)

    def text_from(self, phone: str, body: str) -> Message:
        """The phone texts ``body`` to the business number that last texted it."""
        last = [m for m in self.state.thread(phone) if m.to == phone]
        business = last[-1].from_ if last else self.default_number
        message = self.state.received(phone, business, body)
        url = self.webhook_for(business)
        if url:
            params = {
                "AccountSid": message.account_sid,
                "ApiVersion": "2010-04-01",
                "Body": body,
                "From": phone,
                "MessageSid": message.sid,
                "NumMedia": "0",
                "NumSegments": "1",
                "SmsMessageSid": message.sid,
                "SmsSid": message.sid,
                "SmsStatus": "received",
                "To": business,
            }
            status, answer = self.post(url, params)
            if status == 200:
                for text in _TWIML_MESSAGE.findall(answer):
                    self.state.replied(phone, business, html.unescape(text).strip())
        return message

    def routes(self) -> list[Route]:
        return [
            Route("/phone", self.index, methods=["GET"]),
            Route("/phone/{number}", self.phone, methods=["GET"]),
            Route("/phone/{number}/reply", self.reply, methods=["POST"]),
        ]
