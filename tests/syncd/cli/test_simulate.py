"""``syncd simulate quickbooks|stripe|twilio|mail``: one command per simulator, shared with
``python -m connectors.<vendor>.simulator``, every option exposed, stable default ports, and on
start everything syncd needs, as facts and as a ``syncd.toml`` fragment that works."""

from __future__ import annotations

import inspect
import smtplib
import socket
from email.message import EmailMessage
from pathlib import Path

import click
import pytest
import requests
from processes import Process, parse_fragment

from connectors.quickbooks.simulator import QboSimulator
from connectors.quickbooks.simulator import cli as qbo_cli
from connectors.sms.client import TwilioConnector
from connectors.sms.simulator import TwilioSimulator
from connectors.sms.simulator import cli as twilio_cli
from connectors.stripe.simulator import StripeSimulator
from connectors.stripe.simulator import cli as stripe_cli
from syncd.cli.simulate import MAILBOX_PORT, SMTP_PORT, simulate

# Constructor arguments that only tests steer (an injected clock, fault dice, delivery threads).
TEST_ONLY = {"now", "fault_seed", "webhook_workers", "search_lag", "self"}


def option_names(command: click.Command) -> set[str]:
    return {p.name for p in command.params if p.name}


def test_syncd_simulate_and_python_m_are_one_command() -> None:
    assert simulate.commands["quickbooks"] is qbo_cli.command
    assert simulate.commands["stripe"] is stripe_cli.command
    assert simulate.commands["twilio"] is twilio_cli.command
    assert set(simulate.commands) == {"quickbooks", "stripe", "twilio", "mail"}
    for module in ("quickbooks", "stripe", "sms"):
        main = Path(__file__).resolve().parents[3] / "connectors" / module / "simulator" / "__main__.py"
        assert "import PROG, command" in main.read_text()


@pytest.mark.parametrize(
    ("command", "simulator"),
    [
        (qbo_cli.command, QboSimulator),
        (stripe_cli.command, StripeSimulator),
        (twilio_cli.command, TwilioSimulator),
    ],
)
def test_every_simulator_setting_is_an_option(command: click.Command, simulator: type) -> None:
    wanted = set(inspect.signature(simulator).parameters) - TEST_ONLY
    assert wanted - option_names(command) == set()


def test_default_ports_are_stable() -> None:
    defaults = {
        name: next(p.default for p in cmd.params if p.name == "port")
        for name, cmd in simulate.commands.items()
    }
    assert defaults == {"quickbooks": 12110, "stripe": 12111, "twilio": 12112, "mail": MAILBOX_PORT}
    assert (SMTP_PORT, MAILBOX_PORT) == (1025, 8025)


def test_quickbooks_prints_what_syncd_needs_and_it_works(tmp_path: Path) -> None:
    proc = Process(
        "python -m connectors.quickbooks.simulator --port 0 --invoices 4 --client-secret s3cret "
        "--verifier-token v3rifier --realm-id 4620816365000001",
        tmp_path,
    )
    try:
        settings = parse_fragment(proc.fragment())
        qbo = settings["quickbooks"]
        assert qbo["client_id"] == "sim-client" and qbo["client_secret"] == "s3cret"
        assert qbo["webhook_verifier_token"] == "v3rifier"
        assert settings["company"] == [{"realm_id": "4620816365000001", "first_sync": "email_open"}]
        for fact in ("Realm id:", "Client secret:", "Verifier token:", "Books (browser):"):
            assert fact in proc.output
        discovery = requests.get(qbo["environment"], timeout=5).json()
        assert discovery["token_endpoint"].startswith(qbo["api_base_url"].removesuffix("/v3"))
    finally:
        assert proc.stop() == 0


def test_stripe_prints_its_key_and_each_endpoints_secret(tmp_path: Path) -> None:
    proc = Process(
        "syncd simulate stripe --port 0 --api-key sk_test_other --webhook http://127.0.0.1:9/hook", tmp_path
    )
    try:
        stripe = parse_fragment(proc.fragment())["stripe"]
        assert stripe["api_key"] == "sk_test_other"
        assert stripe["webhook_secret"].startswith("whsec_")
        assert f"signing secret {stripe['webhook_secret']}" in proc.output
        listed = requests.get(
            f"{stripe['api_base']}/v1/webhook_endpoints",
            headers={"Authorization": f"Bearer {stripe['api_key']}"},
            timeout=5,
        ).json()
        assert [e["url"] for e in listed["data"]] == ["http://127.0.0.1:9/hook"]
    finally:
        assert proc.stop() == 0


def test_stripe_without_webhooks_says_how_to_register_one(tmp_path: Path) -> None:
    proc = Process("syncd simulate stripe --port 0", tmp_path)
    try:
        assert "webhook_secret" not in parse_fragment(proc.fragment())["stripe"]
        assert "syncd connect stripe" in proc.output
    finally:
        assert proc.stop() == 0


def test_twilio_prints_the_company_sms_table_and_it_sends(tmp_path: Path) -> None:
    proc = Process("syncd simulate twilio --port 0 --sms-url http://127.0.0.1:9/webhooks/twilio", tmp_path)
    try:
        sms = parse_fragment(proc.fragment())["company"]["sms"]
        assert sms["enabled"] is True and sms["from_number"] == "+15005550006"
        twilio = TwilioConnector(sms["account_sid"], sms["auth_token"], api_base=sms["api_base"])
        sent = twilio.send(
            to="+14155550123",
            from_=sms["from_number"],
            body="hi",
            status_callback="http://127.0.0.1:9/s",
            key="k",
        )
        assert sent.sid.startswith("SM")
        phone = proc.wait_for(r"Phone page:\s+(\S+)").group(1)
        assert "+14155550123" in requests.get(phone, timeout=5).text
    finally:
        assert proc.stop() == 0


def test_mail_serves_the_sink_and_the_mailbox_page_alone(tmp_path: Path) -> None:
    proc = Process("syncd simulate mail --smtp-port 0 --port 0", tmp_path)
    try:
        smtp = parse_fragment(proc.fragment())["smtp"]
        mailbox = proc.wait_for(r"Mailbox:\s+(\S+)").group(1)
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = smtp["from"], "ada@example.com", "Invoice 1042"
        message.set_content("Pay at http://127.0.0.1:8000/i/abc")
        with smtplib.SMTP(smtp["host"], smtp["port"], timeout=5) as client:
            client.send_message(message)
        page = requests.get(mailbox, timeout=5)
        assert page.status_code == 200 and "Invoice 1042" in page.text
        assert requests.get(mailbox.removesuffix("/mailbox") + "/", timeout=5).url == mailbox
    finally:
        assert proc.stop() == 0


@pytest.mark.parametrize(
    ("command", "option"),
    [
        ("syncd simulate quickbooks --port {port}", "--port"),
        ("python -m connectors.stripe.simulator --port {port}", "--port"),
        ("syncd simulate twilio --port {port}", "--port"),
        ("syncd simulate mail --smtp-port {port} --port 0", "--smtp-port"),
        ("syncd simulate mail --smtp-port 0 --port {port}", "--port"),
    ],
)
def test_a_taken_port_is_one_line_naming_the_option(tmp_path: Path, command: str, option: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = Process(command.format(port=port), tmp_path)
        assert proc.finish(30) == 1
    lines = proc.output.strip().splitlines()
    assert lines[-1] == f"Error: port {port} is in use: pass {option} with another port (0: any free one)"
    assert "Traceback" not in proc.output
