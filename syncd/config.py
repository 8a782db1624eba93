"""Configuration: one TOML file, validated up front; every mistake names its setting."""

from __future__ import annotations

import enum
import ipaddress
import os
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.email.address import recipient
from connectors.email.protocol import SmtpSettings
from connectors.quickbooks.protocol import AccountNames, QboSettings
from connectors.stripe.protocol import StripeSettings
from syncd.errors import ConfigError, PermanentError

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
PAYMENT_METHODS = {"card", "us_bank_account"}
QBO_PRODUCTION = "https://quickbooks.api.intuit.com/v3"
QBO_SANDBOX = "https://sandbox-quickbooks.api.intuit.com/v3"
LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("console", "json")


class FirstSync(enum.StrEnum):
    """What the first cycle does with the open invoices a company already has (its backlog)."""

    LINK_ONLY = "link_only"  # publish links, email none of the backlog
    EMAIL_OPEN = "email_open"  # email every open invoice of the backlog
    EMAIL_NOT_OVERDUE = "email_not_overdue"  # email only backlog invoices not yet overdue


@dataclass(frozen=True, slots=True)
class BrandingSettings:
    name: str | None = None
    logo_url: str | None = None
    primary_color: str = "#1f4e79"
    accent_color: str = "#2e8540"
    contact_email: str | None = None
    contact_phone: str | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class CompanySettings:
    realm_id: str
    accounts: AccountNames = field(default_factory=AccountNames)
    branding: BrandingSettings = field(default_factory=BrandingSettings)
    allow_partial: bool = False
    min_partial: Decimal = Decimal("1.00")
    payment_methods: tuple[str, ...] = ("card",)
    save_methods: bool = False
    link_writeback: str = "memo"
    notify_new_invoices: bool = True
    first_sync: FirstSync = FirstSync.LINK_ONLY
    reminder_days: tuple[int, ...] = (3, 10)
    sending_hour: int = 9
    timezone: str | None = None
    locale: str = "en_US"  # how people are shown money and dates (Babel)
    staff_email: str | None = None
    # Failed or returned bank debits that put a customer on credit hold (card only); 0: never.
    bank_debit_strikes: int = 2
    # A refund takes its amount off the QBO Payment (the invoice owes it again) instead of
    # writing a Refund Receipt against income.
    refund_reopens_invoice: bool = False


@dataclass(frozen=True, slots=True)
class Intervals:
    pull_seconds: float = 300.0
    worker_seconds: float = 2.0
    inbox_seconds: float = 2.0
    backfill_seconds: float = 300.0
    refresh_seconds: float = 600.0


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    secret_key: str
    public_url: str
    web_host: str
    web_port: int
    qbo: QboSettings
    stripe: StripeSettings
    smtp: SmtpSettings
    companies: tuple[CompanySettings, ...]
    intervals: Intervals = field(default_factory=Intervals)
    template_dir: Path | None = None
    log_level: str = "info"
    log_format: str = "console"
    mail_domain: str = "syncd.local"
    # Proxies whose X-Forwarded-For/-Proto are believed (uvicorn's forwarded_allow_ips).
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")
    # Bearer token /metrics asks for; None: /metrics is not served.
    metrics_token: str | None = None

    @property
    def https(self) -> bool:
        """Customers reach syncd over https (through a proxy): HSTS and ``Secure`` cookies."""
        return self.public_url.startswith("https://")

    def company(self, realm_id: str) -> CompanySettings:
        for company in self.companies:
            if company.realm_id == realm_id:
                return company
        raise ConfigError("company", f"no company {realm_id!r} is configured")


def resolve(value: Any, setting: str) -> Any:
    """``env:NAME``, ``file:/path`` and ``credential:NAME`` (systemd credentials) indirections."""
    if not isinstance(value, str):
        return value
    if value.startswith("env:"):
        name = value[4:]
        if name not in os.environ:
            raise ConfigError(setting, f"environment variable {name} is not set")
        return os.environ[name]
    if value.startswith("file:") or value.startswith("credential:"):
        if value.startswith("file:"):
            path = Path(value[5:])
        else:
            creds = os.environ.get("CREDENTIALS_DIRECTORY")
            if not creds:
                raise ConfigError(setting, "credential: used but $CREDENTIALS_DIRECTORY is not set (systemd)")
            path = Path(creds) / value[len("credential:") :]
        try:
            return path.read_text().strip()
        except OSError as exc:
            raise ConfigError(setting, f"cannot read {path}: {exc.strerror}") from None
    return value


class _Section:
    """Typed reads from one TOML table, naming the full setting path in every error."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, dict):
            raise ConfigError(path, "must be a table")
        self.data = data
        self.path = path

    def name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def text(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = resolve(self.data.get(key, default), self.name(key))
        if value is None:
            if required:
                raise ConfigError(self.name(key), "is required")
            return None
        if not isinstance(value, str):
            raise ConfigError(self.name(key), f"must be a string, not {type(value).__name__}")
        return value

    def req(self, key: str, default: str | None = None) -> str:
        value = self.text(key, default, required=True)
        assert value is not None
        return value

    def integer(self, key: str, default: int, lo: int, hi: int) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise ConfigError(self.name(key), f"must be a whole number from {lo} to {hi}")
        return value

    def num(self, key: str, default: float, lo: float) -> float:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < lo:
            raise ConfigError(self.name(key), f"must be a number of at least {lo}")
        return float(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise ConfigError(self.name(key), "must be true or false")
        return value

    def sub(self, key: str) -> _Section:
        return _Section(self.data.get(key, {}), self.name(key))

    def only(self, *keys: str) -> _Section:
        """Refuse settings this table does not have: a typo must not be silently ignored."""
        for key in self.data:
            if key not in keys:
                raise ConfigError(self.name(key), f"unknown setting (known: {', '.join(sorted(keys))})")
        return self


def load(path: Path) -> Settings:
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError("config", f"{path} does not exist: create one with `syncd init`") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("config", f"{path} is not valid TOML: {exc}") from None
    return parse(raw, base_dir=path.parent)


def parse(raw: dict[str, Any], *, base_dir: Path = Path(".")) -> Settings:
    top = _Section(raw, "")
    known = {
        "database",
        "web",
        "quickbooks",
        "stripe",
        "smtp",
        "company",
        "scheduler",
        "secret_key",
        "log_level",
        "log_format",
    }
    for key in raw:
        if key not in known:
            raise ConfigError(key, f"unknown setting (known: {', '.join(sorted(known))})")
    secret_key = top.text("secret_key") or os.environ.get("SYNCD_SECRET_KEY")
    if not secret_key:
        raise ConfigError("secret_key", "is required (or set SYNCD_SECRET_KEY); `syncd init` writes one")
    database = top.sub("database").only("url")
    web = top.sub("web").only(
        "public_url", "host", "port", "template_dir", "trusted_proxies", "metrics_token"
    )
    public_url = web.req("public_url", "http://127.0.0.1:8000").rstrip("/")
    if not re.match(r"^https?://", public_url):
        raise ConfigError("web.public_url", "must start with http:// or https://")
    template_dir = web.text("template_dir")
    templates = (base_dir / template_dir) if template_dir else None
    if templates is not None and not templates.is_dir():
        raise ConfigError("web.template_dir", f"{templates} is not a directory")
    log_level = top.req("log_level", "info").lower()
    if log_level not in LOG_LEVELS:
        raise ConfigError("log_level", f"must be one of {', '.join(LOG_LEVELS)}, not {log_level!r}")
    log_format = top.req("log_format", "console")
    if log_format not in LOG_FORMATS:
        raise ConfigError("log_format", f"must be console or json, not {log_format!r}")
    return Settings(
        database_url=database.req("url", "sqlite:///syncd.db"),
        secret_key=secret_key,
        public_url=public_url,
        web_host=web.req("host", "127.0.0.1"),
        web_port=web.integer("port", 8000, 1, 65535),
        template_dir=templates,
        qbo=_qbo(
            top.sub("quickbooks").only(
                "client_id",
                "client_secret",
                "redirect_uri",
                "environment",
                "api_base_url",
                "webhook_verifier_token",
                "minorversion",
                "timeout_seconds",
            ),
            public_url,
        ),
        stripe=_stripe(
            top.sub("stripe").only("api_key", "webhook_secret", "api_base", "webhook_tolerance_seconds")
        ),
        smtp=_smtp(
            top.sub("smtp").only(
                "host", "port", "username", "password", "security", "timeout_seconds", "from"
            )
        ),
        companies=_companies(raw.get("company", [])),
        intervals=_intervals(
            top.sub("scheduler").only(
                "pull_seconds", "worker_seconds", "inbox_seconds", "backfill_seconds", "refresh_seconds"
            )
        ),
        log_level=log_level,
        log_format=log_format,
        trusted_proxies=_trusted_proxies(web),
        metrics_token=_metrics_token(web),
        mail_domain=re.sub(r"^https?://", "", public_url).split("/")[0].split(":")[0] or "syncd.local",
    )


def _trusted_proxies(web: _Section) -> tuple[str, ...]:
    value = web.data.get("trusted_proxies", ["127.0.0.1", "::1"])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(web.name("trusted_proxies"), 'must be a list of addresses, e.g. ["10.0.0.0/8"]')
    for entry in value:
        if entry == "*":
            continue
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ConfigError(
                web.name("trusted_proxies"), f"{entry!r} is not an IP address or network (or *)"
            ) from None
    return tuple(value)


def _metrics_token(web: _Section) -> str | None:
    token = web.text("metrics_token")
    if token is not None and (len(token) < 16 or not token.isprintable() or " " in token):
        raise ConfigError(web.name("metrics_token"), "must be at least 16 characters, no spaces")
    return token or None


def _qbo(s: _Section, public_url: str) -> QboSettings:
    environment = s.req("environment", "production")
    default_base = {"production": QBO_PRODUCTION, "sandbox": QBO_SANDBOX}.get(environment)
    if default_base is None and not environment.startswith("http"):
        raise ConfigError(s.name("environment"), "must be production, sandbox or a discovery URL")
    api_base = s.text("api_base_url", default_base)
    if api_base is None:
        raise ConfigError(s.name("api_base_url"), "is required when environment is a discovery URL")
    verifier = s.req("webhook_verifier_token", "")
    if verifier and (not re.fullmatch(r"[\x21-\x7e]{8,}", verifier) or verifier.startswith("whsec_")):
        raise ConfigError(
            s.name("webhook_verifier_token"),
            "must be the verifier token from the Intuit app's Webhooks page (8 or more characters, "
            "no spaces; whsec_… is a Stripe secret)",
        )
    return QboSettings(
        client_id=s.req("client_id", ""),
        client_secret=s.req("client_secret", ""),
        redirect_uri=s.req("redirect_uri", f"{public_url}/connect/quickbooks/callback"),
        environment=environment,
        api_base_url=api_base.rstrip("/"),
        webhook_verifier_token=verifier,
        minorversion=s.integer("minorversion", 75, 75, 200),
        timeout_seconds=s.num("timeout_seconds", 30.0, 1.0),
    )


def _stripe(s: _Section) -> StripeSettings:
    api_key = s.req("api_key", "")
    if api_key and not re.match(r"^(sk|rk)_(test|live)_", api_key):
        raise ConfigError(s.name("api_key"), "must be a secret or restricted key (sk_… or rk_…)")
    webhook_secret = s.req("webhook_secret", "")
    if webhook_secret and not re.fullmatch(r"whsec_[A-Za-z0-9_]+", webhook_secret):
        raise ConfigError(
            s.name("webhook_secret"), "must be the endpoint's signing secret (whsec_…, no spaces)"
        )
    return StripeSettings(
        api_key=api_key,
        webhook_secret=webhook_secret,
        api_base=s.text("api_base"),
        webhook_tolerance_seconds=s.integer("webhook_tolerance_seconds", 300, 1, 86400),
    )


def _smtp(s: _Section) -> SmtpSettings:
    security = s.req("security", "starttls")
    if security not in ("starttls", "tls", "none"):
        raise ConfigError(s.name("security"), "must be starttls, tls or none")
    return SmtpSettings(
        host=s.req("host", "localhost"),
        port=s.integer("port", 587 if security == "starttls" else 465 if security == "tls" else 25, 1, 65535),
        username=s.text("username"),
        password=s.text("password"),
        security=security,
        timeout_seconds=s.num("timeout_seconds", 20.0, 1.0),
        from_addr=_address(s, "from", "billing@example.com") or "billing@example.com",
    )


def _address(s: _Section, key: str, default: str | None = None) -> str | None:
    """An email address setting: one address (a header break would fail every email it is on)."""
    value = s.text(key, default)
    if value is None:
        return None
    try:
        return recipient(value)
    except PermanentError:
        raise ConfigError(s.name(key), "must be one email address, e.g. billing@example.com") from None


def _intervals(s: _Section) -> Intervals:
    return Intervals(
        pull_seconds=s.num("pull_seconds", 300.0, 1.0),
        worker_seconds=s.num("worker_seconds", 2.0, 0.1),
        inbox_seconds=s.num("inbox_seconds", 2.0, 0.1),
        backfill_seconds=s.num("backfill_seconds", 300.0, 5.0),
        refresh_seconds=s.num("refresh_seconds", 600.0, 30.0),
    )


def _companies(raw: Any) -> tuple[CompanySettings, ...]:
    if not isinstance(raw, list):
        raise ConfigError("company", "must be an array of tables: [[company]]")
    seen: set[str] = set()
    out = []
    for i, item in enumerate(raw):
        c = _Section(item, f"company[{i}]").only(
            "realm_id",
            "accounts",
            "branding",
            "allow_partial",
            "min_partial",
            "payment_methods",
            "save_methods",
            "link_writeback",
            "notify_new_invoices",
            "first_sync",
            "reminder_days",
            "sending_hour",
            "timezone",
            "staff_email",
            "refund_reopens_invoice",
            "bank_debit_strikes",
        )
        realm = c.req("realm_id")
        if realm in seen:
            raise ConfigError(c.name("realm_id"), f"{realm} is configured twice")
        seen.add(realm)
        methods = c.data.get("payment_methods", ["card"])
        if not isinstance(methods, list) or not methods or not set(methods) <= PAYMENT_METHODS:
            raise ConfigError(
                c.name("payment_methods"), f"must be a non-empty list of {sorted(PAYMENT_METHODS)}"
            )
        writeback = c.req("link_writeback", "memo")
        if writeback not in ("memo", "off") and not writeback.startswith("custom_field:"):
            raise ConfigError(c.name("link_writeback"), "must be memo, off or custom_field:<definition id>")
        try:
            min_partial = Decimal(str(c.data.get("min_partial", "1.00")))
        except InvalidOperation:
            raise ConfigError(c.name("min_partial"), 'must be an amount like "5.00"') from None
        days = c.data.get("reminder_days", [3, 10])
        if not isinstance(days, list) or not all(isinstance(d, int) and 0 <= d <= 365 for d in days):
            raise ConfigError(c.name("reminder_days"), "must be a list of day counts after the due date")
        first_sync = c.req("first_sync", FirstSync.LINK_ONLY.value)
        if first_sync not in {f.value for f in FirstSync}:
            raise ConfigError(c.name("first_sync"), f"must be one of {', '.join(f.value for f in FirstSync)}")
        tz = c.text("timezone")
        if tz:
            try:
                ZoneInfo(tz)
            except (ZoneInfoNotFoundError, ValueError):
                raise ConfigError(c.name("timezone"), f"unknown time zone {tz!r}") from None
        acc = c.sub("accounts").only(
            "clearing", "fees", "bank", "banks", "vendor", "refund_income", "rounding"
        )
        banks = acc.sub("banks")
        for code in banks.data:
            if not (isinstance(code, str) and len(code) == 3 and code.isalpha() and code.isupper()):
                raise ConfigError(banks.name(str(code)), "must be an ISO currency code such as JPY")
        b = c.sub("branding").only(
            "name", "logo_url", "primary_color", "accent_color", "contact_email", "contact_phone", "message"
        )
        for colour in ("primary_color", "accent_color"):
            value = b.text(colour)
            if value is not None and not HEX_COLOUR.match(value):
                raise ConfigError(b.name(colour), "must be a colour like #1f4e79")
        out.append(
            CompanySettings(
                realm_id=realm,
                accounts=AccountNames(
                    clearing=acc.req("clearing", "Stripe Clearing"),
                    fee_expense=acc.req("fees", "Stripe Fees"),
                    bank=acc.text("bank"),
                    stripe_vendor=acc.req("vendor", "Stripe"),
                    refund_income=acc.req("refund_income", "Sales"),
                    rounding=acc.req("rounding", "Stripe Rounding"),
                    banks=tuple(sorted((code, banks.req(code)) for code in banks.data)),
                ),
                branding=BrandingSettings(
                    name=b.text("name"),
                    logo_url=b.text("logo_url"),
                    primary_color=b.req("primary_color", "#1f4e79"),
                    accent_color=b.req("accent_color", "#2e8540"),
                    contact_email=_address(b, "contact_email"),
                    contact_phone=b.text("contact_phone"),
                    message=b.text("message"),
                ),
                allow_partial=c.flag("allow_partial", False),
                min_partial=min_partial,
                payment_methods=tuple(methods),
                save_methods=c.flag("save_methods", False),
                link_writeback=writeback,
                notify_new_invoices=c.flag("notify_new_invoices", True),
                first_sync=FirstSync(first_sync),
                reminder_days=tuple(days),
                sending_hour=c.integer("sending_hour", 9, 0, 23),
                timezone=tz,
                staff_email=_address(c, "staff_email"),
                bank_debit_strikes=c.integer("bank_debit_strikes", 2, 0, 100),
                refund_reopens_invoice=c.flag("refund_reopens_invoice", False),
            )
        )
    return tuple(out)
