"""The REST routes: ``/2010-04-01/Accounts/{AccountSid}/Messages.json`` (create with a form and
Basic auth, list filtered by To, From and DateSent) and ``…/Messages/{Sid}.json`` (fetch), with
Twilio's JSON shapes and error bodies."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, date, datetime

import phonenumbers
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.sms.simulator.state import API_VERSION, Message, State

PAGE_SIZE = 50


def error(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """Twilio's error body."""
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return JSONResponse(body, status_code=status, headers=headers)


class Api:
    def __init__(self, state: State, auth_token: str) -> None:
        self.state = state
        self.auth_token = auth_token

    def _refused(self, request: Request) -> Response | None:
        """401 unless Basic auth is the account SID and auth token; 429 while throttled."""
        header = request.headers.get("authorization", "")
        try:
            user, _, password = base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user = password = ""
        account = request.path_params["account"]
        if user != self.state.account_sid or password != self.auth_token or account != user:
            return error(401, 20003, "Authenticate")
        with self.state.lock:
            if self.state.throttled > 0:
                self.state.throttled -= 1
                return error(429, 20429, "Too Many Requests", {"Retry-After": "1"})
        return None

    async def create(self, request: Request) -> Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        form = await request.form()
        to, body = str(form.get("To") or ""), str(form.get("Body") or "")
        sender, service = str(form.get("From") or ""), str(form.get("MessagingServiceSid") or "")
        if not to:
            return error(400, 21604, "A 'To' phone number is required.")
        if not _valid(to):
            return error(400, 21211, f"Invalid 'To' Phone Number: {to[:-4]}XXXX")
        if not (sender or service):
            return error(400, 21603, "A 'From' phone number is required.")
        if not body:
            return error(400, 21602, "Message body is required.")
        if len(body) > 1600:
            return error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        sender = sender or "+15005550006"  # the service's pool number
        if (to, sender) in self.state.opted_out:
            return error(400, 21610, "Attempt to send to unsubscribed recipient")
        callback = str(form.get("StatusCallback") or "") or None
        message = self.state.queue(to, sender, body, callback, service or None)
        return JSONResponse(message.json(), status_code=201)

    async def listing(self, request: Request) -> Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        query = request.query_params
        with self.state.lock:
            found = [m for m in self.state.messages if _matches(m, query)]
        found.sort(key=lambda m: m.created, reverse=True)
        size = min(int(query.get("PageSize") or PAGE_SIZE), 1000)
        page = int(query.get("Page") or 0)
        chunk = found[page * size : (page + 1) * size]
        base = f"/{API_VERSION}/Accounts/{self.state.account_sid}/Messages.json"
        more = (page + 1) * size < len(found)
        return JSONResponse(
            {
                "end": page * size + max(len(chunk) - 1, 0),
                "first_page_uri": f"{base}?PageSize={size}&Page=0",
                "messages": [m.json() for m in chunk],
                "next_page_uri": f"{base}?PageSize={size}&Page={page + 1}" if more else None,
                "page": page,
                "page_size": size,
                "previous_page_uri": f"{base}?PageSize={size}&Page={page - 1}" if page else None,
                "start": page * size,
                "uri": f"{base}?PageSize={size}&Page={page}",
            }
        )

    async def fetch(self, request: Request) -> Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        message = self.state.find(request.path_params["sid"])
        if message is None:
            return error(404, 20404, f"The requested resource {request.url.path} was not found")
        return JSONResponse(message.json())

    def routes(self) -> list[Route]:
        base = f"/{API_VERSION}/Accounts/{{account}}"
        return [
            Route(f"{base}/Messages.json", self.create, methods=["POST"]),
            Route(f"{base}/Messages.json", self.listing, methods=["GET"]),
            Route(f"{base}/Messages/{{sid}}.json", self.fetch, methods=["GET"]),
        ]


def _valid(number: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(number, None))
    except phonenumbers.NumberParseException:
        return False


def _day(value: str) -> date | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).date()
    except ValueError:
        return None


def _matches(message: Message, query: QueryParams) -> bool:
    """Twilio's list filters: To, From, DateSent (a day), DateSent< and DateSent> (and <=, >=)."""
    get = query.get
    if get("To") and message.to != get("To"):
        return False
    if get("From") and message.from_ != get("From"):
        return False
    sent = message.sent.date() if message.sent else None
    on, before, after = (_day(get(name) or "") for name in ("DateSent", "DateSent<", "DateSent>"))
    if (on or before or after) and sent is None:
        return False  # a message not sent yet has no DateSent to match
    return not (
        (on is not None and sent != on)
        or (before is not None and sent is not None and sent > before)
        or (after is not None and sent is not None and sent < after)
    )
