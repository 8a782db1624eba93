"""The typed payloads of installment plans' effects: an installment's charge and its emails."""

from __future__ import annotations

from dataclasses import dataclass

from syncd.catalog.jsonable import key_part
from syncd.catalog.kinds import EffectKind as K
from syncd.catalog.payloads import Payload


@dataclass(frozen=True, slots=True)
class PlanCharge(Payload):
    """``charge_key`` is ``plan:<realm>:<plan>:<seq>:<attempt>``: one key per attempt."""

    KIND = K.STRIPE_PLAN_CHARGE
    CUSTOMER = "customer_id"
    KEY = "stripe:{charge_key}"
    charge_key: str
    customer_id: str = key_part()


@dataclass(frozen=True, slots=True)
class PlanEmail(Payload):
    """One email about one installment: ``topic`` notice (before a charge), due (a link for the
    amount), retry (declined, tried again later) or missed; one per installment, topic and
    attempt."""

    KIND = K.EMAIL_PLAN
    KEY = "email:plan:{realm}:{plan_id}:{seq}:{topic}:{attempt}"
    plan_id: int
    seq: int
    topic: str
    attempt: int = 0


PLAN_PAYLOADS: tuple[type[Payload], ...] = (PlanCharge, PlanEmail)
