"""The typed payloads of autopay: an enrolled customer's charge, its notice and its outcome email."""

from __future__ import annotations

from dataclasses import dataclass

from syncd.catalog.jsonable import key_part
from syncd.catalog.kinds import EffectKind as K
from syncd.catalog.payloads import Payload


@dataclass(frozen=True, slots=True)
class AutopayCharge(Payload):
    """``charge_key`` is ``autopay:<realm>:<invoice>:<balance>:<attempt>``: one key per attempt."""

    KIND = K.STRIPE_AUTOPAY_CHARGE
    CUSTOMER = "customer_id"
    KEY = "stripe:{charge_key}"
    charge_key: str
    customer_id: str = key_part()


@dataclass(frozen=True, slots=True)
class AutopayNoticeEmail(Payload):
    KIND = K.EMAIL_AUTOPAY_NOTICE
    KEY = "email:notice:{charge_key}"
    charge_key: str


@dataclass(frozen=True, slots=True)
class AutopayOutcomeEmail(Payload):
    """``outcome`` is a ``ChargeOutcome`` value: one email per attempt and outcome."""

    KIND = K.EMAIL_AUTOPAY_OUTCOME
    KEY = "email:outcome:{charge_key}:{outcome}"
    charge_key: str
    outcome: str


AUTOPAY_PAYLOADS: tuple[type[Payload], ...] = (
    AutopayCharge,
    AutopayNoticeEmail,
    AutopayOutcomeEmail,
)
