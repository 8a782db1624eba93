"""``[company.collections]``: the reminder policy (steps before and after the due date, channels,
quiet hours), who collects overdue accounts, and the escalation and small-debt thresholds."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, StrictBool, StrictInt, StrictStr, field_validator

from syncd.config.fields import Section, setting
from syncd.domain.collections import AssignRule, Channel, ReminderStep

DEFAULT_STEPS = (
    "-3:email:reminder_before",
    "0:email:reminder_due",
    "3:both:reminder_after",
    "10:both:reminder_after",
    "30:both:final_notice",
)
TEMPLATES = ("reminder_before", "reminder_due", "reminder_after", "final_notice")
STEP_PROBLEM = 'must be a list like ["-3:email:reminder_before", "30:both:final_notice"]'
RULE_PROBLEM = 'must be a list like ["ana@example.com min_owed=500 min_days=30 customer=42"]'


def parse_step(spelled: str) -> ReminderStep:
    """``DAYS:CHANNEL:TEMPLATE``; raises ValueError naming what is wrong."""
    parts = spelled.split(":")
    if len(parts) != 3:
        raise ValueError(f"{spelled!r}: {STEP_PROBLEM}")
    days, channel, template = parts
    try:
        offset = int(days)
    except ValueError:
        raise ValueError(f"{spelled!r}: the days must be a whole number from -60 to 365") from None
    if not -60 <= offset <= 365:
        raise ValueError(f"{spelled!r}: the days must be a whole number from -60 to 365")
    if channel not in {c.value for c in Channel}:
        raise ValueError(f"{spelled!r}: the channel must be email, sms or both")
    if template not in TEMPLATES:
        raise ValueError(f"{spelled!r}: the template must be one of {', '.join(TEMPLATES)}")
    return ReminderStep(offset, Channel(channel), template)


def parse_rule(spelled: str) -> AssignRule:
    """``EMAIL [min_owed=AMOUNT] [min_days=N] [customer=ID]``; raises ValueError."""
    to, *conditions = spelled.split()
    if "@" not in to:
        raise ValueError(f"{spelled!r}: {RULE_PROBLEM}")
    found: dict[str, str] = {}
    for condition in conditions:
        name, _, value = condition.partition("=")
        if name not in ("min_owed", "min_days", "customer") or not value:
            raise ValueError(f"{spelled!r}: unknown condition {condition!r} (min_owed, min_days, customer)")
        found[name] = value
    try:
        owed = Decimal(found.get("min_owed", "0"))
        days = int(found.get("min_days", "0"))
    except (InvalidOperation, ValueError):
        raise ValueError(f"{spelled!r}: min_owed must be an amount and min_days a whole number") from None
    return AssignRule(to=to.lower(), min_owed=owed, min_days=days, customer=found.get("customer"))


def _amount(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError('must be an amount like "500.00"') from None
    if not amount.is_finite() or amount < 0:
        raise ValueError('must be an amount like "500.00"')
    return amount


Amount = Annotated[Decimal, BeforeValidator(_amount)]


class CollectionsSettings(Section):
    """How syncd chases what is owed, and when it stops extending credit."""

    policy: StrictBool = setting(
        False,
        "true: reminders follow `steps` (before, on and after the due date, by email and/or text) and "
        "`reminder_days` is ignored; false: the `reminder_days` emails only.",
    )
    steps: tuple[StrictStr, ...] = setting(
        DEFAULT_STEPS,
        "The reminder steps, each DAYS:CHANNEL:TEMPLATE: days from the due date (negative: before "
        "it), email, sms or both, and the email template (reminder_before, reminder_due, "
        "reminder_after, final_notice). The last step is the final notice.",
    )
    quiet_start: StrictInt = setting(
        20, "From this local hour (0 to 23) no reminder goes out until quiet_end.", ge=0, le=23
    )
    quiet_end: StrictInt = setting(8, "The local hour (0 to 23) quiet hours end.", ge=0, le=23)
    assign: tuple[StrictStr, ...] = setting(
        (),
        "Who collects an account past the last step, first match wins: EMAIL with optional "
        "min_owed=AMOUNT, min_days=N, customer=ID. No match: the account waits for "
        "`syncd collect assign`.",
        example=["ana@example.com min_owed=500", "ben@example.com"],
    )
    hold_after_days: StrictInt = setting(
        14,
        "Days (0 to 365) after an account went to a collector with no payment or open promise before "
        "the customer is put on credit hold. 0: never.",
        ge=0,
        le=365,
    )

    agency_above: Amount = setting(
        Decimal("0"),
        "Accounts past the last step owing at least this overdue go into `syncd collect export`, "
        'the CSV for a collections agency ("0": none).',
        example=Decimal("500.00"),
    )

    @field_validator("steps", mode="before")
    @classmethod
    def _steps(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple) or not all(isinstance(s, str) for s in value):
            raise ValueError(STEP_PROBLEM)
        parsed = [parse_step(s) for s in value]
        days = [s.days for s in parsed]
        if len(set(days)) != len(days):
            raise ValueError("two steps on the same day: give each step its own day")
        return tuple(value)

    @field_validator("assign", mode="before")
    @classmethod
    def _assign(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple) or not all(isinstance(s, str) and s.strip() for s in value):
            raise ValueError(RULE_PROBLEM)
        for rule in value:
            parse_rule(rule)
        return tuple(value)

    def reminder_steps(self) -> tuple[ReminderStep, ...]:
        """The steps in day order."""
        return tuple(sorted((parse_step(s) for s in self.steps), key=lambda s: s.days))

    def rules(self) -> tuple[AssignRule, ...]:
        return tuple(parse_rule(r) for r in self.assign)

    def quiet(self, hour: int) -> bool:
        """Whether a local ``hour`` is inside quiet hours (which may wrap past midnight)."""
        if self.quiet_start == self.quiet_end:
            return False
        if self.quiet_start < self.quiet_end:
            return self.quiet_start <= hour < self.quiet_end
        return hour >= self.quiet_start or hour < self.quiet_end
