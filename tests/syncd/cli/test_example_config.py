"""config/syncd.example.toml is what the models render, loads, documents every setting, and so does
``init``'s file."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from syncd.config import load, parse
from syncd.config.render import render, render_init
from syncd.secrets import SecretBox

EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "syncd.example.toml"

SETTINGS = {
    "": {"secret_key", "log_level", "log_format"},
    "database": {"url"},
    "web": {"public_url", "host", "port", "template_dir", "trusted_proxies", "metrics_token"},
    "quickbooks": {
        "environment",
        "api_base_url",
        "client_id",
        "client_secret",
        "redirect_uri",
        "webhook_verifier_token",
        "minorversion",
        "timeout_seconds",
    },
    "stripe": {"api_key", "webhook_secret", "api_base", "webhook_tolerance_seconds"},
    "smtp": {"host", "port", "username", "password", "security", "timeout_seconds", "from"},
    "scheduler": {
        "pull_seconds",
        "worker_seconds",
        "inbox_seconds",
        "backfill_seconds",
        "refresh_seconds",
        "lease_seconds",
        "batch_entries",
        "batch_window_seconds",
    },
    "company": {
        "realm_id",
        "payment_methods",
        "allow_partial",
        "min_partial",
        "save_methods",
        "link_writeback",
        "first_sync",
        "notify_new_invoices",
        "reminder_days",
        "sending_hour",
        "timezone",
        "staff_email",
        "bank_debit_strikes",
        "refund_reopens_invoice",
        "locale",
        "stripe_account",
    },
    "company.accounts": {"clearing", "fees", "bank", "banks", "vendor", "refund_income", "rounding"},
    "company.branding": {
        "name",
        "logo_url",
        "primary_color",
        "accent_color",
        "contact_email",
        "contact_phone",
        "message",
    },
    "company.stripe": {"api_key", "webhook_secret"},
    "company.sms": {
        "enabled",
        "account_sid",
        "auth_token",
        "from_number",
        "messaging_service_sid",
        "api_base",
        "country",
        "attest_qbo_mobile",
        "quiet_start",
        "quiet_end",
    },
    "company.recurring": {"allow_cancel", "allow_pause", "contract_end_notice_days", "trial_reminder_days"},
    "company.collections": {
        "policy",
        "steps",
        "quiet_start",
        "quiet_end",
        "assign",
        "hold_after_days",
        "agency_above",
        "hold_after_failed_charges",
        "write_off_below",
        "write_off_entry",
        "write_off_item",
        "bad_debt_item",
    },
    "company.autopay": {
        "enabled",
        "charge_hour",
        "notice_days",
        "charge_on",
        "change_tolerance",
        "retry_days",
        "plan_missed_days",
    },
    "company.authorizations": {"release_days"},
}


def documented_keys(text: str) -> dict[str, set[str]]:
    """Keys set or shown commented out (``# key = value``) per table of a TOML file."""
    found: dict[str, set[str]] = {"": set()}
    table = ""
    for raw in text.splitlines():
        line = raw.lstrip("# ").rstrip()
        head = re.fullmatch(r"\[\[?([a-z_.]+)\]\]?", line)
        if head and not raw.startswith("#  "):
            table = head.group(1)
            found.setdefault(table, set())
            continue
        kv = re.match(r"([a-z_]+) = ", line)
        if kv:
            found.setdefault(table, set()).add(kv.group(1))
    return found


@pytest.fixture
def credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    creds = tmp_path / "creds"
    creds.mkdir()
    values = {
        "secret_key": SecretBox.generate(),
        "stripe_api_key": "sk_live_example",
        "stripe_webhook_secret": "whsec_example",
        "qbo_client_secret": "secret",
        "qbo_webhook_verifier_token": "verifier",
        "smtp_password": "password",
    }
    for name, value in values.items():
        (creds / name).write_text(value + "\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    return creds


def test_example_loads_with_systemd_credentials(credentials: Path) -> None:
    settings = load(EXAMPLE)
    assert settings.stripe.api_key == "sk_live_example"
    assert settings.smtp.password == "password"
    assert settings.qbo.webhook_verifier_token == "verifier"
    assert [c.realm_id for c in settings.companies] == ["9130350000000001"]
    assert settings.companies[0].branding.name == "Northwind IT Services"


def test_example_documents_every_setting() -> None:
    found = documented_keys(EXAMPLE.read_text())
    for table, keys in SETTINGS.items():
        assert keys <= found.get(table, set()), (table, keys - found.get(table, set()))


def test_example_sets_nothing_config_does_not_know(credentials: Path) -> None:
    raw = tomllib.loads(EXAMPLE.read_text())
    parse(raw)  # unknown top-level keys are refused by the parser itself
    for table in ("database", "web", "quickbooks", "stripe", "smtp", "scheduler"):
        assert set(raw[table]) <= SETTINGS[table], table
    company = raw["company"][0]
    tables = {key for key, value in company.items() if isinstance(value, dict)}
    assert {"accounts", "branding", "stripe"} <= tables
    assert set(company) - tables <= SETTINGS["company"]
    for table in tables:
        assert set(company[table]) <= SETTINGS[f"company.{table}"], table


def test_checked_in_example_is_what_the_settings_render() -> None:
    assert EXAMPLE.read_text() == render(example=True), (
        "config/syncd.example.toml is stale: python -m syncd.config.render > config/syncd.example.toml"
    )


def test_init_file_loads_as_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "syncd.toml"
    path.write_text(render_init(SecretBox.generate(), "sqlite:///x.db"))
    settings = load(path)
    assert settings.database_url == "sqlite:///x.db" and settings.companies == ()
    assert settings.smtp.port == 587 and settings.intervals.pull_seconds == 300


def test_init_template_covers_every_setting_too() -> None:
    found = documented_keys(render_init("KEY"))
    for table, keys in SETTINGS.items():
        assert keys <= found.get(table, set()), (table, keys - found.get(table, set()))
