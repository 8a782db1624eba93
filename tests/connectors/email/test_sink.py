"""SmtpSink and Mailbox: real SMTP in, parsed messages out, duplicates kept, threads cleaned up."""

from __future__ import annotations

import smtplib
import threading
from email.message import EmailMessage

import pytest

from connectors.email.sink import Mailbox, SmtpSink


def raw(message_id: str, subject: str = "Hello") -> bytes:
    msg = EmailMessage()
    msg["From"] = "a@example.com"
    msg["To"] = "b@example.com"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    msg["Date"] = "Sun, 22 Nov 2026 00:00:00 +0000"
    msg.set_content("text body")
    msg.add_alternative("<p>html body</p>", subtype="html")
    return msg.as_bytes()


def test_mailbox_parses_and_keeps_duplicates_newest_first() -> None:
    box = Mailbox()
    first = box.add(raw("<1@x>", "one"), mail_from="a@example.com", rcpt_tos=["b@example.com"])
    box.add(raw("<2@x>", "two"), mail_from="a@example.com", rcpt_tos=["b@example.com"])
    box.add(raw("<1@x>", "one again"), mail_from="a@example.com", rcpt_tos=["b@example.com"])
    assert [m.subject for m in box.all()] == ["one again", "two", "one"]
    assert [m.subject for m in box.by_message_id("<1@x>")] == ["one", "one again"]
    assert box.get(first.id) == first
    assert box.get("999") is None
    assert first.text == "text body\n"
    assert first.html == "<p>html body</p>\n"
    assert first.date is not None and first.date.year == 2026
    box.clear()
    assert len(box) == 0


def test_wait_for_wakes_on_arrival() -> None:
    box = Mailbox()
    assert not box.wait_for(1, timeout=0.01)
    t = threading.Thread(
        target=box.add, args=(raw("<3@x>"),), kwargs={"mail_from": "a@x.y", "rcpt_tos": ["b@x.y"]}
    )
    t.start()
    assert box.wait_for(1, timeout=5)
    t.join()


def test_sink_receives_over_tcp_and_releases_its_port() -> None:
    sink = SmtpSink()
    port = sink.port
    assert port > 0
    with sink:
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
            client.sendmail("a@example.com", ["b@example.com", "c@example.com"], raw("<4@x>"))
        [got] = sink.mailbox.all()
        assert got.rcpt_tos == ("b@example.com", "c@example.com")
        assert got.message_id == "<4@x>"
    with pytest.raises(OSError), smtplib.SMTP("127.0.0.1", port, timeout=1):
        pass


def test_sinks_share_a_mailbox_and_reject_per_address() -> None:
    box = Mailbox()
    with SmtpSink(mailbox=box) as one, SmtpSink(mailbox=box) as two:
        assert one.port != two.port
        two.reject_recipient("B@example.com", "550 5.1.1 nope")
        with smtplib.SMTP("127.0.0.1", one.port, timeout=5) as client:
            client.sendmail("a@example.com", ["b@example.com"], raw("<5@x>"))
        with (
            smtplib.SMTP("127.0.0.1", two.port, timeout=5) as client,
            pytest.raises(smtplib.SMTPRecipientsRefused),
        ):
            client.sendmail("a@example.com", ["b@example.com"], raw("<6@x>"))
    assert [m.message_id for m in box.all()] == ["<5@x>"]


def test_a_sink_never_started_releases_everything() -> None:
    sink = SmtpSink()
    sink.stop()
    with pytest.raises(OSError), smtplib.SMTP("127.0.0.1", sink.port, timeout=1):
        pass
