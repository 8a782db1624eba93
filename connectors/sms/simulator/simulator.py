"""``TwilioSimulator``: the handle tests and ``syncd demo`` use to run and steer the simulator."""

from __future__ import annotations

import secrets
from typing import Self

from starlette.applications import Starlette

from connectors.lifecycle import Served
from connectors.serving import ThreadedServer
from connectors.sms.simulator.api import Api
from connectors.sms.simulator.dispatch import Dispatcher, post_signed
from connectors.sms.simulator.phone import PhonePage
from connectors.sms.simulator.state import Message, State

DEFAULT_ACCOUNT = "AC" + "5" * 32
DEFAULT_NUMBER = "+15005550006"


class TwilioSimulator(Served):
    """A Twilio account on a local port: ``account_sid`` and ``auth_token`` are the credentials it
    accepts and signs with; ``number`` its phone number; ``mps`` messages a second per sender;
    ``sms_url`` where texts to its numbers are posted (syncd's ``/webhooks/twilio``)."""

    def __init__(
        self,
        account_sid: str = DEFAULT_ACCOUNT,
        auth_token: str | None = None,
        *,
        number: str = DEFAULT_NUMBER,
        mps: float = 1.0,
        sms_url: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token or secrets.token_hex(16)
        self.number = number
        self.sms_url = sms_url
        self.state = State(account_sid, mps)
        self.dispatcher = Dispatcher(self.state, self.auth_token)
        self.phones = PhonePage(
            self.state,
            number,
            lambda _: self.sms_url,
            lambda url, form: post_signed(url, form, self.auth_token),
        )
        app = Starlette(routes=[*Api(self.state, self.auth_token).routes(), *self.phones.routes()])
        self._server = ThreadedServer(app, host, port)

    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> Self:
        self._server.start()
        self.dispatcher.start()
        return self

    def stop(self) -> None:
        self.dispatcher.stop()
        self._server.stop()

    def text_from(self, phone: str, body: str) -> Message:
        """``phone`` texts ``body`` to the business, as typing it on the phone page does."""
        return self.phones.text_from(phone, body)

    def sent_to(self, phone: str) -> list[Message]:
        """What the business sent ``phone`` (API messages and webhook replies), oldest first."""
        return [m for m in self.state.thread(phone) if m.to == phone]

    def throttle(self, requests: int) -> None:
        """The next ``requests`` API calls answer 429 (20429) with Retry-After: 1."""
        with self.state.lock:
            self.state.throttled += requests

    def phone_url(self, phone: str | None = None) -> str:
        return f"{self.url}/phone" + (f"/{phone}" if phone else "")
