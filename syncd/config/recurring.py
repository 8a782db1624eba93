"""``[company.recurring]``: what customers may do with their recurring services from QuickBooks, and
when syncd tells them before a contract ends or a trial first bills."""

from __future__ import annotations

from pydantic import StrictBool, StrictInt

from syncd.config.fields import Section, setting


class RecurringSettings(Section):
    """Recurring invoice templates (QBO RecurringTransaction) as the account page offers them."""

    allow_cancel: StrictBool = setting(
        False,
        "Show Cancel on the account page: syncd makes the QBO template inactive and ends it that day.",
    )
    allow_pause: StrictBool = setting(
        False,
        "Show Pause on the account page: syncd makes the QBO template inactive (the bookkeeper can "
        "make it active again in QuickBooks).",
    )
    contract_end_notice_days: StrictInt = setting(
        30,
        "Email the customer and staff this many days (0 to 365) before a template ends "
        "(its end date, or its last invoice by the maximum number, whichever is first). 0: no notices.",
        ge=0,
        le=365,
    )
    trial_reminder_days: StrictInt = setting(
        7,
        "Email a trial's customer this many days (0 to 90) before its first invoice, with one-click "
        "continue / cancel links. 0: no reminders.",
        ge=0,
        le=90,
    )
