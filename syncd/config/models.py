"""Every setting of syncd.toml, defined once: type, default, bounds, validation and documentation.

pydantic v2 (the house choice for config): one declaration per field serves validation, defaults and docs.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StrictBool, StrictInt, StrictStr, field_validator

from syncd.config.fields import Section, setting
from syncd.errors import PermanentError
from syncd.ports.address import recipient

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
PAYMENT_METHODS = {"card", "us_bank_account"}
QBO_PRODUCTION = "https://quickbooks.api.intuit.com/v3"
QBO_SANDBOX = "https://sandbox-quickbooks.api.intuit.com/v3"
LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("console", "json")
SECRET_KEY_ENV = "SYNCD_SECRET_KEY"  # noqa: S105 (the variable's name, not a secret)


class FirstSync(enum.StrEnum):
    """What the first cycle does with the open invoices a company already has (its backlog)."""

    LINK_ONLY = "link_only"  # publish links, email none of the backlog
    EMAIL_OPEN = "email_open"  # email every open invoice of the backlog
    EMAIL_NOT_OVERDUE = "email_not_overdue"  # email only backlog invoices not yet overdue


def _address(value: str) -> str:
    """One email address (a header break would fail every email it is on)."""
    try:
        return recipient(value)
    except PermanentError:
        raise ValueError("must be one email address, e.g. billing@example.com") from None


def _colour(value: str) -> str:
    if not HEX_COLOUR.match(value):
        raise ValueError("must be a colour like #1f4e79")
    return value


def _currency(code: str) -> str:
    if not (len(code) == 3 and code.isalpha() and code.isupper()):
        raise ValueError("must be an ISO currency code such as JPY")
    return code


def one_of(*choices: str) -> AfterValidator:
    """A setting that takes one of a few words."""

    def check(value: str) -> str:
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}, not {value!r}")
        return value

    return AfterValidator(check)


def shaped(pattern: str, problem: str) -> AfterValidator:
    """A credential ("" while unset) that must look like what it is, so a pasted-over one of
    another kind stops syncd at start rather than failing every call."""

    def check(value: str) -> str:
        if value and not re.fullmatch(pattern, value):
            raise ValueError(problem)
        return value

    return AfterValidator(check)


Address = Annotated[StrictStr, AfterValidator(_address)]
Colour = Annotated[StrictStr, AfterValidator(_colour)]
Currency = Annotated[str, AfterValidator(_currency)]
Seconds = Annotated[float, Field(strict=True)]


class DatabaseSection(Section):
    url: StrictStr = setting(
        "sqlite:///syncd.db",
        'SQLite (embedded; WAL mode) or PostgreSQL ("postgresql://user:pass@host/db"; several '
        "replicas may share one PostgreSQL database). A relative SQLite path is relative to the "
        "working directory; under systemd that is /var/lib/syncd.",
        example="sqlite:////var/lib/syncd/syncd.db",
    )


class WebSection(Section):
    public_url: StrictStr = setting(
        "http://127.0.0.1:8000",
        "The address customers and webhooks reach syncd on; links in emails are built from it.",
        example="https://pay.example.com",
    )
    host: StrictStr = setting("127.0.0.1", "Where the web server listens (put a TLS proxy in front).")
    port: StrictInt = setting(8000, "The port it listens on.", ge=1, le=65535)
    template_dir: StrictStr | None = setting(
        None,
        "A directory (relative to this file) whose templates override the packaged portal and email "
        "templates (see config/templates/README.md).",
        sample="templates",
    )
    trusted_proxies: tuple[str, ...] = setting(
        ("127.0.0.1", "::1"),
        "The reverse proxies whose X-Forwarded-For/-Proto are believed (addresses or networks, or "
        '"*"). With an https public_url, HSTS and Secure cookies are on whatever the proxy sends.',
    )
    metrics_token: StrictStr | None = setting(
        None,
        "Bearer token Prometheus must send for /metrics (at least 16 characters). Unset: no /metrics.",
        sample="credential:syncd_metrics_token",
        repr=False,
    )

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        if not re.match(r"^https?://", value):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ValueError('must be a list of addresses, e.g. ["10.0.0.0/8"]')
        for entry in value:
            if entry == "*":
                continue
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or network (or *)") from None
        return tuple(value)

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token(cls, token: str | None) -> str | None:
        if token is not None and (len(token) < 16 or not token.isprintable() or " " in token):
            raise ValueError("must be at least 16 characters, no spaces")
        return token or None


class QuickbooksSection(Section):
    environment: StrictStr = setting(
        "production", "production, sandbox, or a discovery-document URL (the QBO simulator's)."
    )
    api_base_url: StrictStr | None = setting(
        None,
        'The QBO ".../v3" API base. Defaults to Intuit\'s for production and sandbox; required when '
        "environment is a discovery URL.",
        sample=QBO_PRODUCTION,
        documented="by environment",
    )
    client_id: StrictStr = setting(
        "", "From your app on developer.intuit.com (Keys & credentials).", example="ABcdEF0123456789"
    )
    client_secret: StrictStr = setting(
        "", "Your Intuit app's client secret.", example="credential:qbo_client_secret", repr=False
    )
    redirect_uri: StrictStr | None = setting(
        None,
        "Where Intuit sends the owner back after consent. Default: "
        "<public_url>/connect/quickbooks/callback, which a running `syncd run` serves itself (so "
        "`syncd connect quickbooks` works beside it). With no daemon running, an "
        "http://localhost:PORT/... URI is caught by the command itself.",
        example="http://localhost:8765/callback",
        sample="http://localhost:8000/connect/quickbooks/callback",
        documented="`<public_url>/connect/quickbooks/callback`",
    )
    webhook_verifier_token: Annotated[
        StrictStr,
        shaped(
            r"(?!whsec_)[\x21-\x7e]{8,}",
            "must be the verifier token from the Intuit app's Webhooks page (8 or more characters, "
            "no spaces; whsec_… is a Stripe secret)",
        ),
    ] = setting(
        "",
        "Webhooks page of your Intuit app; verifies `intuit-signature` on /webhooks/quickbooks.",
        example="credential:qbo_webhook_verifier_token",
        repr=False,
    )
    minorversion: StrictInt = setting(75, "QBO API minor version (75 to 200).", ge=75, le=200, commented=True)
    timeout_seconds: Seconds = setting(30.0, "Per request, in seconds (at least 1).", ge=1.0, commented=True)

    @field_validator("environment")
    @classmethod
    def _environment(cls, value: str) -> str:
        if value not in ("production", "sandbox") and not value.startswith("http"):
            raise ValueError("must be production, sandbox or a discovery URL")
        return value


# A Stripe secret or restricted key, and a webhook endpoint's signing secret ("" while unset).
StripeKey = Annotated[
    StrictStr, shaped(r"(?s)(sk|rk)_(test|live)_.*", "must be a secret or restricted key (sk_… or rk_…)")
]
WebhookSecret = Annotated[
    StrictStr, shaped(r"whsec_[A-Za-z0-9_]+", "must be the endpoint's signing secret (whsec_…, no spaces)")
]


class StripeSection(Section):
    api_key: StripeKey = setting(
        "",
        "A secret (sk_live_… / sk_test_…) or restricted (rk_…) key.",
        example="credential:stripe_api_key",
        repr=False,
    )
    webhook_secret: WebhookSecret = setting(
        "",
        "The signing secret (whsec_…) of the endpoint <public_url>/webhooks/stripe. Leave it unset "
        "after `syncd connect stripe`, which stores the secret encrypted in the database; set, it wins.",
        sample="credential:stripe_webhook_secret",
        commented=True,
        repr=False,
    )
    api_base: StrictStr | None = setting(
        None,
        "Only to talk to the Stripe simulator: its base URL (leave unset for real Stripe).",
        sample="http://127.0.0.1:12111",
        documented="Stripe's",
    )
    webhook_tolerance_seconds: StrictInt = setting(
        300, "How old a signed webhook may be, in seconds (1 to 86400).", ge=1, le=86400
    )


SMTP_PORTS = {"starttls": 587, "tls": 465, "none": 25}


class SmtpSection(Section):
    host: StrictStr = setting("localhost", "The mail server.", example="smtp.example.com")
    security: Annotated[StrictStr, one_of(*SMTP_PORTS)] = setting(
        "starttls", "starttls (port 587), tls (implicit TLS, port 465) or none (local relays, port 25)."
    )
    port: StrictInt | None = setting(
        None,
        "Follows security unless given.",
        ge=1,
        le=65535,
        example=587,
        sample=587,
        documented="`587` / `465` / `25`",
    )
    username: StrictStr | None = setting(
        None,
        "SMTP AUTH user; leave out for none.",
        example="billing@example.com",
        sample="billing@example.com",
    )
    password: StrictStr | None = setting(
        None,
        "SMTP AUTH password.",
        example="credential:smtp_password",
        sample="credential:smtp_password",
        repr=False,
    )
    from_addr: Address = setting(
        "billing@example.com",
        "The From address of every email.",
        example="Northwind IT Services <billing@example.com>",
        alias="from",
    )
    timeout_seconds: Seconds = setting(
        20.0, "Per connection, in seconds (at least 1).", ge=1.0, commented=True
    )


class Intervals(Section):
    pull_seconds: Seconds = setting(
        300.0,
        "Seconds between incremental pulls of each company (QBO webhooks also trigger one at once).",
        ge=1.0,
    )
    worker_seconds: Seconds = setting(
        2.0, "Seconds between runs of the effect worker (QBO writes, emails, Checkout sessions).", ge=0.1
    )
    inbox_seconds: Seconds = setting(2.0, "Seconds between passes over stored Stripe webhook events.", ge=0.1)
    batch_entries: StrictBool = setting(
        False,
        "Write money entries (QBO Payments and fee Purchases) in batch calls of up to 30 when several "
        "are due at once; each batch's composition is kept in the ledger before the call. Off by "
        "default: it costs steady payments latency (see the README's Benchmarks).",
        commented=True,
    )
    batch_window_seconds: Seconds = setting(
        0.5,
        "Seconds (at most 1) the worker waits for more money entries to share a batch call once "
        "several are due.",
        ge=0.0,
        le=1.0,
        commented=True,
    )
    backfill_seconds: Seconds = setting(
        300.0, "Seconds between asking Stripe for events a webhook may have missed (at least 5).", ge=5.0
    )
    refresh_seconds: Seconds = setting(
        600.0,
        "Seconds between QBO token checks (refreshed shortly before they expire; at least 30).",
        ge=30.0,
    )
    lease_seconds: Seconds = setting(
        60.0,
        "Seconds a replica's hold on a company lasts unless renewed: another replica sharing the "
        "database takes over a dead one's companies after this (at least 3; never under 5 worker "
        "intervals).",
        ge=3.0,
        commented=True,
    )
