"""The README's "Run syncd against the simulators" section, followed step by step with real
processes: its code blocks are parsed here (so the two cannot drift), run as written with only the
ports moved to free ones, and the only values used are the ones the simulators and syncd print.
It ends when the invoice that was paid through the emailed link shows paid in QuickBooks."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
import requests
from loopback import free_port
from processes import Process

from syncd.domain import STRIPE_WEBHOOK_EVENTS

README = Path(__file__).resolve().parents[2] / "README.md"
TITLE = "## Run syncd against the simulators"
T = TypeVar("T")


def section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(title + "\n")
    end = text.find("\n## ", start + len(title))
    return text[start : end if end != -1 else None]


def code_blocks(text: str, lang: str) -> list[list[str]]:
    blocks = re.findall(rf"```{lang}\n(.*?)```", text, re.DOTALL)
    return [
        [ln.strip() for ln in block.splitlines() if ln.strip() and not ln.startswith("#")] for block in blocks
    ]


def eventually(probe: Callable[[], T | None], what: str, timeout: float = 60.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


class Ports:
    """The README's fixed ports, each moved to a free one."""

    def __init__(self) -> None:
        self.web = free_port()
        self.flags = {
            "quickbooks": f"--port {free_port()}",
            "stripe": f"--port {free_port()}",
            "mail": f"--smtp-port {free_port()} --port {free_port()}",
        }

    def command(self, line: str) -> str:
        line = line.replace("127.0.0.1:8000", f"127.0.0.1:{self.web}")
        words = line.split()
        if words[:2] == ["syncd", "simulate"]:
            line += " " + self.flags[words[2]]
        return line

    def config(self, text: str) -> str:
        # syncd init's [web] defaults: port 8000 and public_url http://127.0.0.1:8000.
        text = text.replace("127.0.0.1:8000", f"127.0.0.1:{self.web}")
        return re.sub(r"(?m)^port = 8000$", f"port = {self.web}", text)


def paste(config: str, fragment: str) -> str:
    """What the README asks: each [table] of a fragment replaces the config's table of that name;
    an [[array]] table goes at the end of the file."""
    chunks = re.split(r"(?m)^(?=\[)", fragment.strip())
    for chunk in (c.strip() for c in chunks if c.strip()):
        header = chunk.splitlines()[0]
        if header.startswith("[["):
            config = config.rstrip("\n") + "\n\n" + chunk + "\n"
            continue
        table = re.compile(rf"(?ms)^{re.escape(header)}\n.*?(?=^\[|\Z)")
        assert table.search(config), f"syncd init wrote no {header} table"
        config = table.sub(lambda _, new=chunk: new + "\n\n", config, count=1)
    return config


@pytest.fixture
def running() -> Iterator[list[Process]]:
    started: list[Process] = []
    yield started
    for proc in reversed(started):
        proc.stop()


def test_the_readme_path_from_init_to_a_paid_invoice(tmp_path: Path, running: list[Process]) -> None:
    text = section(TITLE)
    simulators, init, steps = code_blocks(text, "sh")
    assert [line.split()[:3] for line in simulators] == [
        ["syncd", "simulate", "quickbooks"],
        ["syncd", "simulate", "stripe"],
        ["syncd", "simulate", "mail"],
    ]
    for table in ("`[quickbooks]`", "`[stripe]`", "`[smtp]`", "`[[company]]`"):
        assert table in text
    ports = Ports()
    env = {"SYNCD_CONFIG": "syncd.toml"}

    sims = {line.split()[2]: Process(ports.command(line), tmp_path, env) for line in simulators}
    running.extend(sims.values())
    fragments = {name: proc.fragment() for name, proc in sims.items()}
    mailbox = sims["mail"].wait_for(r"Mailbox:\s+(\S+)").group(1)
    books = sims["quickbooks"].wait_for(r"Books \(browser\):\s+(\S+)").group(1)

    assert init == ["syncd init"]
    assert Process(init[0], tmp_path, env).finish() == 0
    config = tmp_path / "syncd.toml"
    edited = ports.config(config.read_text())
    for name in ("quickbooks", "stripe", "mail"):
        edited = paste(edited, fragments[name])
    config.write_text(edited)

    assert steps == ["syncd migrate", "syncd connect quickbooks", "syncd connect stripe", "syncd run"]
    for line in steps:
        proc = Process(ports.command(line), tmp_path, env)
        if line == "syncd run":
            running.append(proc)
            health = f"http://127.0.0.1:{ports.web}/healthz"
            eventually(lambda url=health: _ok(url), "syncd run to answer /healthz")
            continue
        if line == "syncd connect quickbooks":
            # The owner opens the printed address; the simulator consents and redirects back.
            address = proc.wait_for(r"(http://\S+/connect/oauth2\S*)").group(1)
            assert requests.get(address, timeout=10).status_code == 200
        assert proc.finish() == 0, proc.output
        if line == "syncd connect stripe":
            assert "created" in proc.output and f"127.0.0.1:{ports.web}/webhooks/stripe" in proc.output

    # The customer: an invoice email in the mailbox, its payment link, the simulated Checkout.
    browser = requests.Session()
    listing = eventually(
        lambda: (lambda page: page if "Invoice" in page else None)(browser.get(mailbox, timeout=5).text),
        "the first invoice email",
    )
    first = re.search(r'href="([^"]*/mailbox/\d+)">(Invoice (\S+)[^<]*)<', listing)
    assert first is not None, listing
    doc_number = html.unescape(first.group(3))
    message = browser.get(requests.compat.urljoin(mailbox, first.group(1)), timeout=5).text
    link = re.search(rf"http://127\.0\.0\.1:{ports.web}/i/[A-Za-z0-9_-]+", message)
    assert link is not None, message
    invoice_page = browser.get(link.group(0), timeout=5).text
    form = re.search(
        r'<form class="pay" method="post" action="([^"]+)".*?name="csrf_token" value="([^"]+)"',
        invoice_page,
        re.DOTALL,
    )
    assert form is not None, invoice_page
    checkout = browser.post(
        requests.compat.urljoin(link.group(0), form.group(1)), data={"csrf_token": form.group(2)}, timeout=10
    )
    assert "Simulated Stripe Checkout" in checkout.text, checkout.text
    pay = re.search(
        r"<form method=post action='([^']+)'><input type=hidden name=token value='([^']+)'", checkout.text
    )
    outcome = re.search(r"name=outcome value=(\w+) checked", checkout.text)
    assert pay is not None and outcome is not None and outcome.group(1) == "card_success"
    receipt = browser.post(
        requests.compat.urljoin(checkout.url, pay.group(1)),
        data={"token": pay.group(2), "outcome": outcome.group(1)},
        timeout=10,
    )
    assert receipt.status_code == 200 and receipt.url.startswith(link.group(0)), receipt.url

    # The bookkeeper: the QuickBooks simulator's page shows the invoice paid.
    row = re.compile(rf'<tr class="paid" data-id="\d+"><td>{re.escape(doc_number)}</td>')
    eventually(lambda: row.search(requests.get(books, timeout=5).text), f"invoice {doc_number} to show paid")

    assert running[-1].stop() == 0
    for proc in sims.values():
        assert proc.stop() == 0


def _ok(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def test_the_production_stripe_steps_list_exactly_the_events_syncd_subscribes_to() -> None:
    stripe = section("### 3. Stripe")
    [events] = code_blocks(stripe.split("\n### ", 1)[0], "text")
    assert events == list(STRIPE_WEBHOOK_EVENTS)
