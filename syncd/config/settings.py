"""The whole file (``ConfigFile``) and what the rest of syncd reads from it (``Settings``)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import BeforeValidator, StrictStr

from syncd.config.company import CompanySettings
from syncd.config.fields import Section, setting
from syncd.config.models import (
    LOG_FORMATS,
    LOG_LEVELS,
    QBO_PRODUCTION,
    QBO_SANDBOX,
    SECRET_KEY_ENV,
    SMTP_PORTS,
    DatabaseSection,
    Intervals,
    QuickbooksSection,
    SmtpSection,
    StripeSection,
    WebSection,
    one_of,
)
from syncd.config.stripe_accounts import StripeAccount, stripe_accounts
from syncd.errors import ConfigError
from syncd.ports.email import SmtpSettings
from syncd.ports.quickbooks import QboSettings
from syncd.ports.stripe import StripeSettings


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


class ConfigFile(Section):
    """syncd.toml as written: top-level keys, then one table per section."""

    secret_key: StrictStr | None = setting(
        None,
        f"REQUIRED (or the {SECRET_KEY_ENV} environment variable). A Fernet key (`syncd init` makes "
        "one). It encrypts QBO tokens at rest and keys portal links and form tokens: keep it, and "
        "keep it secret — a new key makes stored tokens unreadable and every emailed payment link invalid.",
        example="credential:secret_key",
        documented=f"`${SECRET_KEY_ENV}`",
        repr=False,
    )
    log_level: Annotated[StrictStr, BeforeValidator(_lower), one_of(*LOG_LEVELS)] = setting(
        "info", "debug, info, warning or error."
    )
    log_format: Annotated[StrictStr, one_of(*LOG_FORMATS)] = setting(
        "console",
        "console (plain lines, what journald keeps) or json (one object per line, for log shippers).",
    )
    database: DatabaseSection = setting(DatabaseSection(), "")
    web: WebSection = setting(WebSection(), "")
    quickbooks: QuickbooksSection = setting(QuickbooksSection(), "")
    stripe: StripeSection = setting(StripeSection(), "")
    smtp: SmtpSection = setting(SmtpSection(), "")
    scheduler: Intervals = setting(Intervals(), "")
    company: tuple[CompanySettings, ...] = setting(
        (),
        "One [[company]] table per QuickBooks company (connect each with `syncd connect quickbooks`).",
        problem="must be an array of tables: [[company]]",
    )


@dataclass(frozen=True, slots=True)
class Settings:
    """What the daemon and commands run with: the file's values, defaults filled in, secrets
    resolved, and the connectors' settings objects built."""

    database_url: str
    secret_key: str
    public_url: str
    web_host: str
    web_port: int
    qbo: QboSettings
    stripe: StripeSettings
    smtp: SmtpSettings
    companies: tuple[CompanySettings, ...]
    intervals: Intervals
    template_dir: Path | None
    log_level: str
    log_format: str
    mail_domain: str
    # Proxies whose X-Forwarded-For/-Proto are believed (uvicorn's forwarded_allow_ips).
    trusted_proxies: tuple[str, ...]
    # Bearer token /metrics asks for; None: /metrics is not served.
    metrics_token: str | None

    @property
    def https(self) -> bool:
        """Customers reach syncd over https (through a proxy): HSTS and ``Secure`` cookies."""
        return self.public_url.startswith("https://")

    def stripe_accounts(self) -> tuple[StripeAccount, ...]:
        """The Stripe accounts the companies are paid into, the ``[stripe]`` one first."""
        return stripe_accounts(self.stripe, self.companies)

    def company(self, realm_id: str) -> CompanySettings:
        for company in self.companies:
            if company.realm_id == realm_id:
                return company
        raise ConfigError("company", f"no company {realm_id!r} is configured")


def settings(file: ConfigFile, base_dir: Path) -> Settings:
    """The checks that span settings or need the disk, then the runtime view."""
    secret_key = file.secret_key or os.environ.get(SECRET_KEY_ENV)
    if not secret_key:
        raise ConfigError("secret_key", f"is required (or set {SECRET_KEY_ENV}); `syncd init` writes one")
    web = file.web
    templates = (base_dir / web.template_dir) if web.template_dir else None
    if templates is not None and not templates.is_dir():
        raise ConfigError("web.template_dir", f"{templates} is not a directory")
    seen: set[str] = set()
    for i, company in enumerate(file.company):
        if company.realm_id in seen:
            raise ConfigError(f"company[{i}].realm_id", f"{company.realm_id} is configured twice")
        seen.add(company.realm_id)
    return Settings(
        database_url=file.database.url,
        secret_key=secret_key,
        public_url=web.public_url,
        web_host=web.host,
        web_port=web.port,
        template_dir=templates,
        qbo=_qbo(file.quickbooks, web.public_url),
        stripe=StripeSettings(
            api_key=file.stripe.api_key,
            webhook_secret=file.stripe.webhook_secret,
            api_base=file.stripe.api_base,
            webhook_tolerance_seconds=file.stripe.webhook_tolerance_seconds,
        ),
        smtp=_smtp(file.smtp),
        companies=file.company,
        intervals=file.scheduler,
        log_level=file.log_level,
        log_format=file.log_format,
        trusted_proxies=web.trusted_proxies,
        metrics_token=web.metrics_token,
        mail_domain=re.sub(r"^https?://", "", web.public_url).split("/")[0].split(":")[0] or "syncd.local",
    )


def _qbo(s: QuickbooksSection, public_url: str) -> QboSettings:
    api_base = s.api_base_url or {"production": QBO_PRODUCTION, "sandbox": QBO_SANDBOX}.get(s.environment)
    if api_base is None:
        raise ConfigError("quickbooks.api_base_url", "is required when environment is a discovery URL")
    return QboSettings(
        client_id=s.client_id,
        client_secret=s.client_secret,
        redirect_uri=s.redirect_uri or f"{public_url}/connect/quickbooks/callback",
        environment=s.environment,
        api_base_url=api_base.rstrip("/"),
        webhook_verifier_token=s.webhook_verifier_token,
        minorversion=s.minorversion,
        timeout_seconds=s.timeout_seconds,
    )


def _smtp(s: SmtpSection) -> SmtpSettings:
    return SmtpSettings(
        host=s.host,
        port=s.port or SMTP_PORTS[s.security],
        username=s.username,
        password=s.password,
        security=s.security,
        timeout_seconds=s.timeout_seconds,
        from_addr=s.from_addr,
    )
