"""Message-IDs derived from effect keys, and building the message a Mailer sends."""

from __future__ import annotations

import re

import pytest

from syncd.errors import PermanentError
from syncd.mail.message import build_message, domain_of, message_id_for
from syncd.mail.templates import RenderedEmail


def test_message_id_is_deterministic_and_well_formed() -> None:
    a = message_id_for("email:receipt:pay_1", "acme.example")
    assert a == message_id_for("email:receipt:pay_1", "ACME.example")
    assert a != message_id_for("email:receipt:pay_2", "acme.example")
    assert re.fullmatch(r"<[0-9a-f]{40}@acme\.example>", a)


@pytest.mark.parametrize("domain", ["", "a b", "x>", "<x", "a@b", "-x.com", "x\r\n.com"])
def test_message_id_refuses_bad_domains(domain: str) -> None:
    with pytest.raises(ValueError):
        message_id_for("k", domain)


def test_build_message_uses_sender_domain() -> None:
    rendered = RenderedEmail(subject="Hi\nthere", text="t", html="<p>h</p>")
    msg = build_message(
        rendered=rendered,
        to="bob@example.org",
        from_addr="Acme Billing <billing@acme.example>",
        effect_key="email:invoice_new:42",
        reply_to="office@acme.example",
        headers=[("X-Syncd-Effect", "email:invoice_new:42")],
    )
    assert msg.message_id == message_id_for("email:invoice_new:42", "acme.example")
    assert msg.subject == "Hi there"
    assert msg.to == "bob@example.org" and msg.reply_to == "office@acme.example"
    assert msg.headers == (("X-Syncd-Effect", "email:invoice_new:42"),)
    again = build_message(
        rendered=rendered,
        to="bob@example.org",
        from_addr="billing@acme.example",
        effect_key="email:invoice_new:42",
    )
    assert again.message_id == msg.message_id


def test_build_message_refuses_header_breaks() -> None:
    rendered = RenderedEmail(subject="s", text="t", html="h")
    # A customer's address comes from QuickBooks: a bad one fails that email for good (no retry).
    with pytest.raises(PermanentError, match="invalid recipient address"):
        build_message(rendered=rendered, to="a@b.c\r\nBcc: x@y.z", from_addr="x@acme.example", effect_key="k")
    with pytest.raises(ValueError):
        build_message(rendered=rendered, to="a@b.c", from_addr="no-domain", effect_key="k")


def test_domain_of() -> None:
    assert domain_of("Acme <billing@acme.example>") == "acme.example"
    assert domain_of("billing@acme.example") == "acme.example"
