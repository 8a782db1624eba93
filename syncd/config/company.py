"""The settings of one ``[[company]]`` table: payments, notifications, accounts and branding."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import babel
from pydantic import BeforeValidator, StrictBool, StrictInt, StrictStr, field_validator

from syncd.config.autopay import AuthorizationSettings, AutopaySettings
from syncd.config.fields import Section, setting
from syncd.config.models import (
    PAYMENT_METHODS,
    Address,
    Colour,
    Currency,
    FirstSync,
    StripeKey,
    WebhookSecret,
    shaped,
)
from syncd.config.recurring import RecurringSettings
from syncd.config.reminders import CollectionsSettings
from syncd.config.sms import SmsSettings
from syncd.ports.quickbooks import AccountNames


class AccountsSection(Section):
    """``[company.accounts]`` as written in the file (the connector reads it as AccountNames)."""

    clearing: StrictStr = setting("Stripe Clearing", "Mirrors the Stripe balance (a bank-type account).")
    fees: StrictStr = setting("Stripe Fees", "The expense account of Stripe's fees.")
    bank: StrictStr | None = setting(
        None,
        "The bank account payouts land in; payouts are booked as transfers into it when set.",
        example="Checking",
    )
    vendor: StrictStr = setting("Stripe", "The payee of fee and chargeback expenses.")
    refund_income: StrictStr = setting("Sales", "The income account refunds reduce.")
    rounding: StrictStr = setting(
        "Stripe Rounding",
        "Takes the sub-cent remainders of three-decimal currencies (KWD, BHD…), which QBO cannot hold.",
    )
    banks: dict[Currency, StrictStr] = setting(
        {},
        "A bank account per payout currency other than the home one (a QBO bank account in that "
        "currency). A payout in a currency with none is held, staff are told once, and it is booked "
        "once the account is named here.",
        sample={"JPY": "Yen Checking"},
        commented=True,
        documented="none",
    )

    def names(self) -> AccountNames:
        return AccountNames(
            clearing=self.clearing,
            fee_expense=self.fees,
            bank=self.bank,
            stripe_vendor=self.vendor,
            refund_income=self.refund_income,
            rounding=self.rounding,
            banks=tuple(sorted(self.banks.items())),
        )


def _account_names(raw: Any) -> Any:
    return raw if isinstance(raw, AccountNames) else AccountsSection.model_validate(raw).names()


def _amount(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError('must be an amount like "5.00"') from None


class BrandingSettings(Section):
    """``[company.branding]``: how the payment page and emails look."""

    name: StrictStr | None = setting(
        None,
        "Default: the company name from QBO.",
        example="Northwind IT Services",
        documented="the company name from QBO",
    )
    logo_url: StrictStr | None = setting(
        None,
        "An https:// URL or a path on syncd's own site; anything else is ignored.",
        example="https://example.com/logo.png",
    )
    primary_color: Colour = setting("#1f4e79", "The main colour, #rrggbb: header and links.")
    accent_color: Colour = setting("#2e8540", "The colour of the pay button, #rrggbb.")
    contact_email: Address | None = setting(None, "Shown to payers.", example="billing@example.com")
    contact_phone: StrictStr | None = setting(None, "Shown to payers.", example="+1 555 0100")
    message: StrictStr | None = setting(
        None, "A note on the payment page.", example="Thank you for your business."
    )


class CompanyStripeSettings(Section):
    """``[company.stripe]``: the company's own Stripe account, when it has one."""

    api_key: StripeKey = setting(
        "",
        "The secret key of the company's own Stripe account. Unset: the [stripe] key's account "
        "(shared with every company that sets neither this nor stripe_account).",
        sample="credential:northwind_stripe_api_key",
        commented=True,
        documented="none",
        repr=False,
    )
    webhook_secret: WebhookSecret = setting(
        "",
        "The signing secret (whsec_…) of that account's endpoint <public_url>/webhooks/stripe.",
        sample="credential:northwind_stripe_webhook_secret",
        commented=True,
        documented="none",
        repr=False,
    )


class CompanySettings(Section):
    """One connected QuickBooks company and how it is paid."""

    realm_id: StrictStr = setting(
        ..., "REQUIRED: the QBO company (realm) id.", example="9130350000000001", documented="—"
    )
    payment_methods: tuple[str, ...] = setting(
        ("card",),
        "What payers may use: card and/or us_bank_account (ACH debit).",
        example=["card", "us_bank_account"],
    )
    allow_partial: StrictBool = setting(False, "Let customers pay part of an invoice, at least min_partial.")
    min_partial: Annotated[Decimal, BeforeValidator(_amount)] = setting(
        Decimal("1.00"), "The smallest partial payment (a string: exact amounts)."
    )
    save_methods: StrictBool = setting(
        False,
        'Offer "keep this card for next time" on payment (opt-in; only a ticked payment saves its method).',
    )
    link_writeback: StrictStr = setting(
        "memo",
        "Where the portal link is written on the QBO invoice: memo, off or custom_field:<definition id>.",
    )
    notify_new_invoices: StrictBool = setting(True, "Email each new invoice's payment link.")
    first_sync: FirstSync = setting(
        FirstSync.LINK_ONLY,
        "The open invoices the company already has when syncd first syncs it (its backlog): "
        '"link_only" publishes their payment links and emails none of them (the default: nobody is '
        'mailed by surprise), "email_open" emails every one, "email_not_overdue" only those not yet due. '
        "`syncd preview` lists what the next cycle would send, before anything is sent.",
        problem=f"must be one of {', '.join(f.value for f in FirstSync)}",
    )
    reminder_days: tuple[StrictInt, ...] = setting(
        (3, 10),
        "Reminders this many days after the due date ([]: none).",
    )
    sending_hour: StrictInt = setting(9, "The local hour (0 to 23) from which reminders go out.", ge=0, le=23)
    timezone: StrictStr | None = setting(
        None,
        "IANA time zone name. Default: the company's QBO time zone.",
        example="America/New_York",
        documented="company's QBO timezone",
    )
    locale: StrictStr = setting(
        "en_US", "How money and dates are written to payers (a locale such as de_DE)."
    )
    staff_email: Address | None = setting(
        None,
        "Who hears about failures needing a person (reconnects, failed write-backs).",
        example="office@example.com",
    )
    bank_debit_strikes: StrictInt = setting(
        2,
        "After this many failed or returned bank debits (0 to 100) a customer is on credit hold: "
        "offered card only until `syncd holds --release`. 0: never.",
        ge=0,
        le=100,
    )
    refund_reopens_invoice: StrictBool = setting(
        False,
        "false: a refund is a Refund Receipt and the invoice stays paid. true: the refund comes off "
        "the QBO Payment and the invoice owes that amount again.",
    )
    accounts: Annotated[AccountNames, BeforeValidator(_account_names)] = setting(
        AccountsSection().names(),
        "The accounts syncd books into (found by name, created once if missing).",
        table=AccountsSection,
    )
    stripe_account: Annotated[
        StrictStr | None, shaped(r"acct_[A-Za-z0-9]+", "must be a connected account id (acct_…)")
    ] = setting(
        None,
        "Stripe Connect: the connected account (acct_…) this company is paid into. Every call for it "
        "carries the Stripe-Account header (with [company.stripe] api_key if set, else the [stripe] "
        "key), and events naming this account are this company's.",
        sample="acct_1NorthwindIT",
        documented="none",
    )
    branding: BrandingSettings = setting(BrandingSettings(), "How the payment page and emails look.")
    recurring: RecurringSettings = setting(
        RecurringSettings(),
        "Recurring services from QuickBooks: pause / cancel on the account page, contract-end notices "
        "and trial reminders.",
    )
    collections: CollectionsSettings = setting(
        CollectionsSettings(), "Reminder steps, collectors, credit hold and small debts."
    )
    autopay: AutopaySettings = setting(
        AutopaySettings(), "Automatic payments on the due date, after a notice (off by default)."
    )
    authorizations: AuthorizationSettings = setting(
        AuthorizationSettings(), "Card authorisations placed before a job and captured by its invoice."
    )
    stripe: CompanyStripeSettings = setting(
        CompanyStripeSettings(),
        "The company's own Stripe account (its payouts, balance and audit are its alone).",
    )

    sms: SmsSettings = setting(SmsSettings(), "Texts to customers through Twilio, with their consent.")

    def own_stripe(self) -> bool:
        """Whether the company has a Stripe account of its own (own key or connected account)."""
        return bool(self.stripe.api_key or self.stripe_account)

    @field_validator("payment_methods", mode="before")
    @classmethod
    def _methods(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple) or not value or not set(value) <= PAYMENT_METHODS:
            raise ValueError(f"must be a non-empty list of {sorted(PAYMENT_METHODS)}")
        return tuple(value)

    @field_validator("reminder_days", mode="before")
    @classmethod
    def _days(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple) or not all(
            isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 365 for d in value
        ):
            raise ValueError("must be a list of day counts after the due date")
        return tuple(value)

    @field_validator("link_writeback")
    @classmethod
    def _writeback(cls, value: str) -> str:
        if value not in ("memo", "off") and not value.startswith("custom_field:"):
            raise ValueError("must be memo, off or custom_field:<definition id>")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        if value:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        try:
            babel.Locale.parse(value)
        except (ValueError, babel.UnknownLocaleError):
            raise ValueError(f"unknown locale {value!r} (use a name such as en_US or de_DE)") from None
        return value
