"""``[company.autopay]``: whether enrolled customers are charged automatically, when, and how
declines are retried."""

from __future__ import annotations

import enum
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, StrictBool, StrictInt, field_validator

from syncd.config.fields import Section, setting


class ChargeOn(enum.StrEnum):
    """Which date of an invoice its automatic charge falls on."""

    DUE = "due"
    ISSUE = "issue"


def _tolerance(value: Any) -> Decimal:
    try:
        found = Decimal(str(value))
    except InvalidOperation:
        raise ValueError('must be an amount like "1.00"') from None
    if not found.is_finite() or found < 0:
        raise ValueError('must be an amount of 0 or more, like "1.00"')
    return found


class AuthorizationSettings(Section):
    """Card authorisations staff place before a job (``syncd authorize place``)."""

    release_days: StrictInt = setting(
        6,
        "Days (1 to 6) after which an authorisation no invoice has used is released; card networks "
        "end an uncaptured authorisation after 7 days.",
        ge=1,
        le=6,
    )


class AutopaySettings(Section):
    """Automatic payments of enrolled customers' invoices, each announced by a notice first."""

    enabled: StrictBool = setting(
        False,
        "Offer autopay on the account page and charge enrolled customers' open invoices.",
    )
    charge_hour: StrictInt = setting(
        10, "The local hour (0 to 23) from which the day's automatic charges are made.", ge=0, le=23
    )
    notice_days: StrictInt = setting(
        3,
        "Days (1 to 30) between the notice of a charge and the charge; a charge is never made "
        "sooner than this after its notice.",
        ge=1,
        le=30,
    )
    charge_on: ChargeOn = setting(
        ChargeOn.DUE,
        '"due": each invoice is charged on its due date; "issue": on its invoice date.',
        problem="must be due or issue",
    )
    change_tolerance: Annotated[Decimal, BeforeValidator(_tolerance)] = setting(
        Decimal("0.00"),
        "An invoice whose balance changes by more than this after its notice gets a new notice, "
        "and its charge moves to notice_days after that (a string: exact amounts).",
    )
    retry_days: tuple[StrictInt, ...] = setting(
        (3, 5, 7),
        "After a soft decline (insufficient funds, try again later, processing error), try again "
        "this many days after each failed attempt, one entry per retry ([]: never).",
    )
    plan_missed_days: StrictInt = setting(
        7,
        "Days (1 to 60) after an installment's date that its emailed link may stay unpaid before "
        "the installment counts as missed (the customer is reminded and staff told).",
        ge=1,
        le=60,
    )

    @field_validator("retry_days", mode="before")
    @classmethod
    def _retries(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple) or not all(
            isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 30 for d in value
        ):
            raise ValueError("must be a list of day counts from 1 to 30")
        return tuple(value)
