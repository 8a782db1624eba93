"""Consent to texts: given by the customer (the "text me reminders" box), or attested by the
company for the numbers in QBO's Mobile field (``[company.sms] attest_qbo_mobile``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from syncd.context import Context
from syncd.domain import Customer
from syncd.domain.phones import e164, maybe_e164
from syncd.ports.account_text import TEXTS_CONSENT
from syncd.store import texts as store
from syncd.store.models import TextNumber
from syncd.store.texts import ConsentSource

PORTAL_CONSENT = TEXTS_CONSENT
ATTESTED = "The business attests this customer agreed to texts at their QBO Mobile number."


def give_consent(
    ctx: Context,
    session: Session,
    *,
    company_id: str,
    customer_id: str,
    number: str,
    now: datetime,
    ip: str | None,
    user_agent: str | None,
) -> TextNumber:
    """The customer ticked "text me reminders" for ``number`` (as typed): recorded with the words
    shown, time, IP and browser. Raises InvalidPhoneError (a one-line reason) for a number that
    is not one; nothing is recorded then."""
    region = ctx.settings.company(company_id).sms.country
    return store.consent(
        session,
        company_id=company_id,
        customer_id=customer_id,
        number=e164(number, region),
        source=ConsentSource.PORTAL,
        text=PORTAL_CONSENT,
        now=now,
        ip=ip,
        user_agent=user_agent,
    )


def attest_mobiles(
    ctx: Context, session: Session, realm_id: str, customers: Sequence[Customer], *, now: datetime
) -> int:
    """For a company that attests consent, the pulled customers' valid QBO Mobile numbers become
    textable; a customer's own consent (portal) and every opt-out stay as they are. How many.
    Mirrored customers with a Mobile number and no texting row yet (the attestation was switched
    on after they were pulled) are attested in the same pass."""
    company = next((c for c in ctx.settings.companies if c.realm_id == realm_id), None)
    settings = company.sms if company is not None else None
    if settings is None or not (settings.enabled and settings.attest_qbo_mobile):
        return 0
    pulled = {c.qbo_id: (c.mobile, c.deleted) for c in customers}
    for mirrored in store.unattested(session, realm_id):
        pulled.setdefault(mirrored.qbo_id, (mirrored.mobile, mirrored.deleted))
    made = 0
    for customer_id, (mobile, deleted) in pulled.items():
        number = maybe_e164(mobile, settings.country)
        if number is None or deleted:
            continue
        row = store.number_of(session, realm_id, customer_id)
        if row is not None and (row.source != ConsentSource.QBO_MOBILE or row.number == number):
            continue
        if row is not None and row.opted_out_at is not None:
            continue  # a new Mobile number is no new consent from someone who said STOP
        store.consent(
            session,
            company_id=realm_id,
            customer_id=customer_id,
            number=number,
            source=ConsentSource.QBO_MOBILE,
            text=ATTESTED,
            now=now,
        )
        made += 1
    return made
