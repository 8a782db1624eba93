"""``[company.collections]``: the reminder policy (steps before and after the due date, channels,
quiet hours), who collects overdue accounts, and the escalation and small-debt thresholds."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Self

from pydantic import BeforeValidator, StrictBool, StrictInt, StrictStr, field_validator, model_validator

from syncd.config.fields import Section, setting
from syncd.domain.collections import AssignRule, Channel, ReminderStep, WriteOffEntry

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
    hold_after_failed_charges: StrictInt = setting(
        3,
        "Failed automatic charges in a row (0 to 20) after which the customer is put on credit hold: "
        "staff are told and autopay enrollment is refused until the hold is released. 0: never.",
        ge=0,
        le=20,
    )
    write_off_below: Amount = setting(
        Decimal("0"),
        "An account past the last step owing less than this overdue (with no open promise and no "
        "disputed invoice) is proposed for write-off; staff approve or decline each proposal "
        '(`syncd collect writeoffs`) and an approved one is written into QuickBooks ("0": never).',
        example=Decimal("50.00"),
    )
    write_off_entry: StrictStr = setting(
        WriteOffEntry.CREDIT_MEMO.value,
        "How an approved write-off goes into QuickBooks: credit_memo (a credit memo with "
        "`write_off_item`, applied to the invoices) or bad_debt (the same with `bad_debt_item`, an "
        "item whose account is your Bad Debts expense account).",
    )
    write_off_item: StrictStr = setting(
        "",
        "The Id of the QuickBooks item on the line of a write-off credit memo (needed when "
        "write_off_below is set and write_off_entry is credit_memo).",
        example="1",
    )
    bad_debt_item: StrictStr = setting(
        "",
        "The Id of the QuickBooks item for bad debt, whose account is your Bad Debts expense account "
        "(needed when write_off_below is set and write_off_entry is bad_debt).",
    )

    @field_validator("write_off_entry")
    @classmethod
    def _entry(cls, value: str) -> str:
        if value not in {e.value for e in WriteOffEntry}:
            raise ValueError('must be "credit_memo" or "bad_debt"')
        return value

    @field_validator("write_off_item", "bad_debt_item")
    @classmethod
    def _item(cls, value: str) -> str:
        value = value.strip()
        if value and not (value.isascii() and value.isdigit() and len(value) <= 20):
            raise ValueError('must be the Id of a QuickBooks item, digits like "21" (not its name)')
        return value

    @model_validator(mode="after")
    def _write_off_item_named(self) -> Self:
        if self.write_off_below > 0:
            wanted = (
                "bad_debt_item" if self.write_off_entry == WriteOffEntry.BAD_DEBT.value else "write_off_item"
            )
            if not getattr(self, wanted):
                raise ValueError(
                    f"write_off_below is set and write_off_entry is {self.write_off_entry}, but "
                    f"{wanted} is empty: set it to the Id of the QuickBooks item to use"
                )
        return self

    def write_off(self) -> tuple[WriteOffEntry, str]:
        """The entry an approved write-off becomes, and the QBO item its credit memo line uses."""
        entry = WriteOffEntry(self.write_off_entry)
        return entry, self.bad_debt_item if entry is WriteOffEntry.BAD_DEBT else self.write_off_item

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
