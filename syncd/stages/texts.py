"""Texts to customers: queue one (consent checked), and the worker's handler that sends it.

``queue_text`` is what any stage that texts calls (reminders, notices); it queues an ``sms.message``
effect keyed ``sms:{realm}:{purpose}:{ref}`` in the caller's transaction, only for a customer whose
E.164 number has consent and no opt-out. ``send_text`` reads consent again right before sending, so
a STOP that arrived after the text was queued drops it (recorded as ``dropped``, nothing sent).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta
from urllib.parse import urljoin

import structlog
from sqlalchemy.orm import Session

from syncd.catalog.payloads import TextMessage
from syncd.config.sms import SmsSettings
from syncd.context import Context
from syncd.errors import TransientError
from syncd.ports.sms import InvalidNumberError, OptedOutError, TextStatus
from syncd.ports.texts import Text
from syncd.stages.notify import local_now
from syncd.store import effects
from syncd.store import texts as store
from syncd.store.effects import Claimed
from syncd.worker import Done

log = structlog.get_logger("syncd.texts")

STATUS_PATH = "/webhooks/twilio/status"
GSM_SEGMENT = 160
# The GSM 03.38 basic set: a text of these only fits 160 characters to a segment (others: 70).
_GSM = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


class TextOutcome(enum.Enum):
    """What ``queue_text`` did. Only QUEUED queued anything."""

    QUEUED = "queued"  # queued now, or queued before under the same purpose and ref
    NO_NUMBER = "no_number"  # no mobile number known for the customer
    NO_CONSENT = "no_consent"  # a number is known but the customer never agreed to texts
    OPTED_OUT = "opted_out"  # the customer replied STOP
    QUIET = "quiet"  # the company's quiet hours: ask again after them (only with ``settings``)
    DISABLED = "disabled"  # the company does not text (only with ``settings``)


class ConsentedTexts:
    """The reminder run's text channel for one texting company (``ports.texts.TextQueue``): texts
    go only to consented, not opted-out numbers, and not in the company's quiet hours."""

    def __init__(self, settings: SmsSettings, local_hour: int) -> None:
        self.settings = settings
        self.local_hour = local_hour

    def queue_texts(
        self, session: Session, *, company_id: str, texts: Sequence[Text], now: datetime
    ) -> list[TextOutcome]:
        return queue_texts(
            session,
            company_id=company_id,
            texts=texts,
            now=now,
            settings=self.settings,
            local_hour=self.local_hour,
        )

    def reaching(self, session: Session, *, company_id: str, customer_ids: Collection[str]) -> set[str]:
        if self.settings.quiet(self.local_hour):
            return set()
        numbers = store.numbers_of(session, company_id, customer_ids)
        return {customer for customer, number in numbers.items() if number.opted_out_at is None}


def text_channel(ctx: Context, realm_id: str) -> ConsentedTexts | None:
    """The company's text channel, or None when it does not text (its steps go by email)."""
    settings = ctx.settings.company(realm_id).sms
    if not settings.enabled:
        return None
    return ConsentedTexts(settings, local_now(ctx, realm_id).hour)


def queue_text(
    session: Session,
    *,
    company_id: str,
    customer_id: str,
    purpose: str,
    ref: str,
    body: str,
    now: datetime,
    settings: SmsSettings | None = None,
    local_hour: int | None = None,
) -> TextOutcome:
    """Queue ``body`` for the customer's consented number, once per ``purpose`` and ``ref`` (a
    second call with the same pair is a no-op answering QUEUED). With ``settings`` (and the
    company's ``local_hour``) a company that does not text answers DISABLED and quiet hours QUIET;
    without them the sending handler applies both when the text is due."""
    (outcome,) = queue_texts(
        session,
        company_id=company_id,
        texts=[Text(customer_id, purpose, ref, body)],
        now=now,
        settings=settings,
        local_hour=local_hour,
    )
    return outcome


def queue_texts(
    session: Session,
    *,
    company_id: str,
    texts: Sequence[Text],
    now: datetime,
    settings: SmsSettings | None = None,
    local_hour: int | None = None,
) -> list[TextOutcome]:
    """``queue_text`` for many texts in a few statements (consent read in chunks, the effects and
    their rows inserted together); the outcomes in the order of ``texts``."""
    if settings is not None and not settings.enabled:
        return [TextOutcome.DISABLED] * len(texts)
    customers = {text.customer_id for text in texts}
    numbers = store.numbers_of(session, company_id, customers)
    missing = customers - numbers.keys()
    known = store.known_numbers(session, company_id, missing) if missing else set()
    quiet = settings is not None and local_hour is not None and settings.quiet(local_hour)
    outcomes: list[TextOutcome] = []
    payloads: dict[str, tuple[TextMessage, str]] = {}
    for text in texts:
        number = numbers.get(text.customer_id)
        if number is None:
            outcomes.append(TextOutcome.NO_CONSENT if text.customer_id in known else TextOutcome.NO_NUMBER)
        elif number.opted_out_at is not None:
            outcomes.append(TextOutcome.OPTED_OUT)
        elif quiet:
            outcomes.append(TextOutcome.QUIET)
        else:
            payload = TextMessage(
                text.customer_id, text.body, now.isoformat(), purpose=text.purpose, ref=text.ref
            )
            payloads.setdefault(payload.key(company_id), (payload, number.number))
            outcomes.append(TextOutcome.QUEUED)
    if payloads:
        created = effects.enqueue_many(
            session, [payload for payload, _ in payloads.values()], company_id=company_id, now=now
        )
        store.record_queued(
            session,
            [
                (key, payload.customer_id, number)
                for key, (payload, number) in payloads.items()
                if key in created
            ],
            company_id=company_id,
            now=now,
        )
    return outcomes


def segments(body: str) -> int:
    """How many SMS segments ``body`` takes (GSM-7: 160, then 153 each; otherwise 70, then 67)."""
    single, multi = (GSM_SEGMENT, 153) if set(body) <= _GSM else (70, 67)
    return 1 if len(body) <= single else -(-len(body) // multi)


def invoice_text(business: str, what: str, url: str) -> str:
    """A short text with the pay link, one segment whenever the names allow: ``what`` is e.g.
    "Invoice 1042 ($120.00) is due today"."""
    tail = f" Pay: {url} STOP to end"
    head = f"{business}: {what}."
    room = GSM_SEGMENT - len(tail)
    if len(head) > room > 10:
        head = head[: room - 3] + "..."  # GSM-7 has no ellipsis character
    return head + tail


def _until_quiet_ends(settings: SmsSettings, local: datetime) -> timedelta:
    end = local.replace(hour=settings.quiet_end, minute=0, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end - local


def send_text(ctx: Context, effect: Claimed) -> Done:
    """Send one queued text, unless its number opted out or lost consent meanwhile (then dropped).

    A retry (the text may have reached Twilio before a crash) passes the time it was queued, so
    the connector finds that message instead of sending it again (see ``ports.sms``)."""
    payload = TextMessage.of(effect)
    realm = effect.company_id
    settings = ctx.settings.company(realm).sms
    now = ctx.clock()
    with ctx.db.transaction() as session:
        number = store.number_of(session, realm, payload.customer_id)
        to = number.number if number is not None else ""
        sendable = settings.enabled and number is not None and number.opted_out_at is None
    if not sendable:
        log.info("text.dropped", effect=effect.key, company=realm)
        return Done(apply=_recorder(effect, payload, to, TextStatus.DROPPED, now))
    local = local_now(ctx, realm)
    if settings.quiet(local.hour):
        wait = _until_quiet_ends(settings, local)
        raise TransientError("quiet hours for texts", retry_after=wait.total_seconds())
    since = datetime.fromisoformat(payload.queued_at) if effect.attempts > 1 else None
    callback = urljoin(ctx.settings.public_url.rstrip("/") + "/", STATUS_PATH.lstrip("/"))
    try:
        sent = ctx.sms(realm).send(
            to=to,
            from_=settings.sender(),
            body=payload.body,
            status_callback=callback,
            key=effect.key,
            since=since,
        )
    except OptedOutError:
        # Twilio knows of a STOP we missed: honour it here too, and drop the text.
        def opted_out(session: Session) -> None:
            store.opt_out(session, [realm], to, now)
            _recorder(effect, payload, to, TextStatus.DROPPED, now, error=21610)(session)

        return Done(apply=opted_out)
    except InvalidNumberError:
        with ctx.db.transaction() as session:
            _recorder(effect, payload, to, TextStatus.FAILED, now, error=21211)(session)
        raise
    return Done(remote_id=sent.sid, apply=_recorder(effect, payload, to, sent.status, now, sid=sent.sid))


def _recorder(
    effect: Claimed,
    payload: TextMessage,
    to: str,
    status: TextStatus,
    now: datetime,
    *,
    sid: str | None = None,
    error: int | None = None,
) -> Callable[[Session], None]:
    def apply(session: Session) -> None:
        store.record_text(
            session,
            key=effect.key,
            company_id=effect.company_id,
            customer_id=payload.customer_id,
            number=to,
            status=status,
            now=now,
            sid=sid,
            error_code=error,
        )

    return apply
