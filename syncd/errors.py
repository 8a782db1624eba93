"""The one error tree: transient (retry), permanent (record and move on), auth (pause the company)."""

from __future__ import annotations

import enum


class SyncdError(Exception):
    """Root of every error syncd raises on purpose."""


class TransientError(SyncdError):
    """Worth retrying with backoff: timeouts, 5xx, throttling, lock contention.

    ``retry_after`` is the remote's hint in seconds, when it gave one.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SettingError(SyncdError):
    """About one setting: ``setting`` names the key, ``problem`` says what is wrong with it."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting = setting
        self.problem = problem


class UnavailableError(SettingError, TransientError):
    """Something syncd needs at start cannot be reached now (a database server that is down);
    ``setting`` names where it is configured. The CLI exits 75 so a supervisor tries again."""


class ThrottledError(TransientError):
    """The remote said slow down (QBO 3001 / HTTP 429, Stripe 429)."""


class PermanentError(SyncdError):
    """Retrying the same request will fail the same way: record it, surface it, move on."""


class ValidationError(PermanentError):
    """The remote rejected the content of a request (QBO 6xxx, Stripe invalid_request_error)."""


class OpenBalanceError(ValidationError):
    """QBO would not apply a Payment to an invoice as asked: less is open on it than the line
    (QBO 6140), or it is gone or no longer that customer's. Re-read the invoices, apply what is
    open now."""


class DeclineKind(enum.Enum):
    """What a decline calls for. SOFT: the same method may work later (retry on a schedule);
    HARD: it will not (stop charging it, ask for another); AUTHENTICATION: only with the payer
    present (3-D Secure), so send them to pay on-session."""

    SOFT = "soft"
    HARD = "hard"
    AUTHENTICATION = "authentication"


class DeclinedError(PermanentError):
    """A card or bank debit was declined; ``customer_message`` is safe to show the payer, ``kind``
    is what the vendor's code means for a retry (unknown codes are HARD: never retried blindly)."""

    def __init__(
        self,
        message: str,
        *,
        customer_message: str,
        code: str | None = None,
        kind: DeclineKind = DeclineKind.HARD,
    ) -> None:
        super().__init__(message)
        self.customer_message = customer_message
        self.code = code
        self.kind = kind


class AuthenticationRequiredError(DeclinedError):
    """An off-session charge needs the customer present (3-D Secure)."""

    def __init__(self, message: str, *, customer_message: str, code: str | None = None) -> None:
        super().__init__(
            message, customer_message=customer_message, code=code, kind=DeclineKind.AUTHENTICATION
        )


class StaleObjectError(TransientError):
    """QBO 5010: the SyncToken was stale; re-read and retry."""


class Credential(enum.Enum):
    """Which credential a vendor refused; each has its own fix (see ``syncd.companies``)."""

    STRIPE_KEY = "stripe.api_key"
    QBO_APP = "quickbooks.client_id"
    QBO_CONNECTION = "quickbooks.connection"
    SMTP = "smtp.password"


class AuthError(SyncdError):
    """Credentials are missing, revoked or rejected: pause this company and tell staff.

    ``credential`` says which one, so the pause names the right fix; connectors set it.
    """

    def __init__(self, message: str, *, credential: Credential | None = None) -> None:
        super().__init__(message)
        self.credential = credential


class ReconnectNeededError(AuthError):
    """The refresh token was refused (``invalid_grant``): a person must reconnect the company."""

    def __init__(self, message: str, *, credential: Credential | None = Credential.QBO_CONNECTION) -> None:
        super().__init__(message, credential=credential)


class ConfigError(SettingError):
    """Configuration is wrong; ``setting`` names the key at fault. The CLI exits 78."""


class SignatureError(PermanentError):
    """A webhook's signature is missing, forged or outside the tolerance window."""


class NotReducibleError(PermanentError):
    """A QBO Payment cannot take a reduction: it is voided or deleted, holds less than the amount,
    or a converted one would drop to nothing while its home amount should not."""
