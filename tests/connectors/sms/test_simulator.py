"""The Twilio simulator itself: one message per sender every 1/mps seconds (the rest queue), the
list filters, the phone page and its reply box posting a signed incoming-message webhook."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
import requests
from loopback import wait_until
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.serving import ThreadedServer
from connectors.sms.simulator import TwilioSimulator, cli
from connectors.sms.simulator.signing import signature

PHONE = "+14155550123"


def _create(sim: TwilioSimulator, to: str, body: str, **extra: str) -> requests.Response:
    return requests.post(
        f"{sim.url}/2010-04-01/Accounts/{sim.account_sid}/Messages.json",
        data={"To": to, "From": sim.number, "Body": body, **extra},
        auth=(sim.account_sid, sim.auth_token),
        timeout=5,
    )


def test_each_sender_sends_one_message_per_interval() -> None:
    with TwilioSimulator(mps=10) as sim:
        for n in range(3):
            assert _create(sim, PHONE, f"m{n}").status_code == 201
        wait_until(lambda: all(m.status == "delivered" for m in sim.sent_to(PHONE)), timeout=5, what="sends")
        sent = [m.sent for m in sim.sent_to(PHONE)]
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(sent) if a and b]
        print(f"gaps between sends at 10/s: {gaps}")
        assert len(gaps) == 2 and all(gap >= 0.08 for gap in gaps)


def test_list_filters_and_fetch() -> None:
    with TwilioSimulator() as sim:
        _create(sim, PHONE, "to one")
        _create(sim, "+14155550199", "to another")
        auth = (sim.account_sid, sim.auth_token)
        base = f"{sim.url}/2010-04-01/Accounts/{sim.account_sid}/Messages"
        page = requests.get(f"{base}.json", params={"To": PHONE}, auth=auth, timeout=5).json()
        assert [m["body"] for m in page["messages"]] == ["to one"] and page["next_page_uri"] is None
        sid = page["messages"][0]["sid"]
        assert requests.get(f"{base}/{sid}.json", auth=auth, timeout=5).json()["to"] == PHONE
        missing = requests.get(f"{base}/SM{'0' * 32}.json", auth=auth, timeout=5)
        assert missing.status_code == 404 and missing.json()["code"] == 20404
        refused = requests.get(f"{base}.json", auth=(sim.account_sid, "wrong"), timeout=5)
        assert refused.status_code == 401 and refused.json()["code"] == 20003


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[str, dict[str, str], str]]]]:
    """A stand-in for syncd's /webhooks/twilio answering HELP with TwiML."""
    seen: list[tuple[str, dict[str, str], str]] = []

    async def hook(request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        seen.append((str(request.url), form, request.headers.get("x-twilio-signature", "")))
        return Response(
            "<Response><Message>Acme: help &amp; info</Message></Response>", media_type="text/xml"
        )

    with ThreadedServer(Starlette(routes=[Route("/webhooks/twilio", hook, methods=["POST"])])) as server:
        yield f"{server.url}/webhooks/twilio", seen


def test_the_phone_page_reply_posts_a_signed_webhook_and_shows_the_answer(
    receiver: tuple[str, list[tuple[str, dict[str, str], str]]],
) -> None:
    url, seen = receiver
    with TwilioSimulator(sms_url=url) as sim:
        _create(sim, PHONE, "Your invoice is due")
        page = requests.get(sim.phone_url(PHONE), timeout=5)
        assert page.status_code == 200 and "Your invoice is due" in page.text and 'name="body"' in page.text
        r = requests.post(f"{sim.phone_url(PHONE)}/reply", data={"body": "HELP"}, timeout=5)
        assert r.status_code == 200 and "Acme: help &amp; info" in r.text
        ((posted_to, form, signed),) = seen
        assert form["Body"] == "HELP" and form["From"] == PHONE and form["To"] == sim.number
        assert signed == signature(sim.auth_token, posted_to, form)
        assert PHONE in requests.get(sim.phone_url(), timeout=5).text


def test_the_command_prints_the_company_sms_table() -> None:
    with TwilioSimulator() as sim:
        text = cli.describe(sim)
    assert "[company.sms]" in text and f'account_sid = "{sim.account_sid}"' in text
    assert f'api_base = "{sim.url}"' in text and "/phone" in text
