"""``[company.sms]``: texting a company's customers through Twilio, and the consent it rests on."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import StrictBool, StrictInt, StrictStr, field_validator, model_validator

from syncd.config.fields import Section, setting
from syncd.config.models import shaped
from syncd.domain.phones import InvalidPhoneError, e164

TWILIO_API = "https://api.twilio.com"


class SmsSettings(Section):
    """How a company texts: its Twilio account, sender, consent rule and quiet hours."""

    enabled: StrictBool = setting(
        False, "Send texts (reminders with the pay link) to customers who consented."
    )
    account_sid: Annotated[StrictStr, shaped(r"AC[0-9a-fA-F]{32}", "must be a Twilio account SID (AC…)")] = (
        setting(
            "",
            "The Twilio account SID (AC…), from the Twilio console.",
            sample="AC0123456789abcdef0123456789abcdef",
            commented=True,
            documented="none",
        )
    )
    auth_token: StrictStr = setting(
        "",
        "The Twilio auth token: signs Twilio's webhooks and authenticates syncd's requests.",
        sample="credential:northwind_twilio_auth_token",
        commented=True,
        documented="none",
        repr=False,
    )
    from_number: StrictStr | None = setting(
        None,
        "The Twilio phone number texts come from (E.164, e.g. +15550100). Its Messaging webhook is "
        "<public_url>/webhooks/twilio.",
        sample="+15550100",
        commented=True,
        documented="none",
    )
    messaging_service_sid: Annotated[
        StrictStr | None, shaped(r"MG[0-9a-fA-F]{32}", "must be a Messaging Service SID (MG…)")
    ] = setting(
        None,
        "A Twilio Messaging Service (MG…) to send through instead of from_number.",
        sample="MG0123456789abcdef0123456789abcdef",
        commented=True,
        documented="none",
    )
    api_base: StrictStr = setting(
        TWILIO_API, "Twilio's API address (change only for `syncd simulate twilio`)."
    )
    country: StrictStr = setting(
        "US", "The country (ISO code) of numbers written without +country code, as QBO often has them."
    )
    attest_qbo_mobile: StrictBool = setting(
        False,
        "true: the business attests its customers agreed to texts at the number in the QBO customer's "
        "Mobile field, so those numbers are texted without the portal checkbox (STOP still ends it).",
    )
    quiet_start: StrictInt = setting(21, "No texts from this local hour (0 to 23)…", ge=0, le=23)
    quiet_end: StrictInt = setting(
        8, "…until this local hour (equal to quiet_start: no quiet hours).", ge=0, le=23
    )

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        if len(value) != 2 or not value.isalpha():
            raise ValueError("must be a two-letter country code such as US or GB")
        return value.upper()

    @field_validator("from_number")
    @classmethod
    def _from(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return e164(value, "US")
        except InvalidPhoneError as exc:
            raise ValueError(str(exc)) from None

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.enabled:
            missing = [name for name in ("account_sid", "auth_token") if not getattr(self, name)]
            if not (self.from_number or self.messaging_service_sid):
                missing.append("from_number (or messaging_service_sid)")
            if missing:
                raise ValueError(f"texts are enabled but {', '.join(missing)} is not set")
        return self

    def sender(self) -> str:
        """What texts go out from: the Messaging Service when set, else the number."""
        return self.messaging_service_sid or self.from_number or ""

    def quiet(self, local_hour: int) -> bool:
        """Whether ``local_hour`` (the company's time) falls in the quiet hours."""
        if self.quiet_start == self.quiet_end:
            return False
        if self.quiet_start < self.quiet_end:
            return self.quiet_start <= local_hour < self.quiet_end
        return local_hour >= self.quiet_start or local_hour < self.quiet_end
