"""Configuration: every mistake names its setting; indirections resolve; defaults are sane."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from syncd import config
from syncd.errors import ConfigError
from syncd.secrets import SecretBox


def _base(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "secret_key": SecretBox.generate(),
        "stripe": {"api_key": "sk_test_x", "webhook_secret": "whsec_x"},
        "company": [{"realm_id": "123"}],
    }
    data.update(extra)
    return data


def test_defaults() -> None:
    s = config.parse(_base())
    assert s.database_url == "sqlite:///syncd.db"
    assert s.qbo.api_base_url == config.QBO_PRODUCTION and s.qbo.minorversion == 75
    assert s.company("123").payment_methods == ("card",)
    assert s.smtp.port == 587 and s.smtp.security == "starttls"


@pytest.mark.parametrize(
    ("data", "setting"),
    [
        (_base(unknown=1), "unknown"),
        (_base(web={"public_url": "ftp://x"}), "web.public_url"),
        (_base(web={"port": 70000}), "web.port"),
        (_base(stripe={"api_key": "pk_live_x"}), "stripe.api_key"),
        (_base(smtp={"security": "ssl"}), "smtp.security"),
        (_base(quickbooks={"environment": "staging"}), "quickbooks.environment"),
        (_base(company=[{"realm_id": "1"}, {"realm_id": "1"}]), "company[1].realm_id"),
        (_base(company=[{"realm_id": "1", "payment_methods": ["bitcoin"]}]), "company[0].payment_methods"),
        (_base(company=[{"realm_id": "1", "timezone": "Mars/Olympus"}]), "company[0].timezone"),
        (
            _base(company=[{"realm_id": "1", "branding": {"primary_color": "red"}}]),
            "company[0].branding.primary_color",
        ),
        (_base(company=[{"realm_id": "1", "min_partial": "abc"}]), "company[0].min_partial"),
        (_base(company=[{"realm_id": "1", "link_writeback": "notes"}]), "company[0].link_writeback"),
        (_base(company=[{}]), "company[0].realm_id"),
        (_base(scheduler={"worker_seconds": 0}), "scheduler.worker_seconds"),
        (_base(company=[{"realm_id": "1", "alow_partial": True}]), "company[0].alow_partial"),
        (_base(company=[{"realm_id": "1", "branding": {"colour": "#000000"}}]), "company[0].branding.colour"),
        (_base(smtp={"sender": "x@example.com"}), "smtp.sender"),
        (_base(web={"url": "https://x"}), "web.url"),
        (_base(log_level="verbose"), "log_level"),
        (_base(log_format="xml"), "log_format"),
        (_base(web={"template_dir": "no/such/dir"}), "web.template_dir"),
        (_base(stripe={"api_key": "sk_test_x", "webhook_secret": "abc"}), "stripe.webhook_secret"),
        (_base(stripe={"api_key": "sk_test_x", "webhook_secret": "whsec_ spaced"}), "stripe.webhook_secret"),
        (_base(quickbooks={"webhook_verifier_token": "short"}), "quickbooks.webhook_verifier_token"),
        (_base(quickbooks={"webhook_verifier_token": "whsec_swapped1"}), "quickbooks.webhook_verifier_token"),
    ],
)
def test_errors_name_the_setting(data: dict[str, Any], setting: str) -> None:
    with pytest.raises(ConfigError) as err:
        config.parse(data)
    assert err.value.setting == setting


def test_template_dir_resolves_against_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    s = config.parse(_base(web={"template_dir": "mine"}, log_level="WARNING"), base_dir=tmp_path)
    assert s.template_dir == tmp_path / "mine"
    assert s.log_level == "warning" and s.log_format == "console"


def test_missing_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SYNCD_SECRET_KEY", raising=False)
    data = _base()
    del data["secret_key"]
    with pytest.raises(ConfigError, match="secret_key"):
        config.parse(data)


def test_env_file_and_credential_indirections(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "stripe_key").write_text("sk_live_fromfile\n")
    (tmp_path / "creds").mkdir()
    (tmp_path / "creds" / "smtp").write_text("hunter2")
    monkeypatch.setenv("QBO_SECRET", "from-env")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path / "creds"))
    s = config.parse(
        _base(
            stripe={"api_key": f"file:{tmp_path / 'stripe_key'}", "webhook_secret": "whsec_x"},
            quickbooks={"client_secret": "env:QBO_SECRET"},
            smtp={"password": "credential:smtp"},
        )
    )
    assert s.stripe.api_key == "sk_live_fromfile"
    assert s.qbo.client_secret == "from-env"
    assert s.smtp.password == "hunter2"
    monkeypatch.delenv("QBO_SECRET")
    with pytest.raises(ConfigError, match="QBO_SECRET") as err:
        config.parse(_base(quickbooks={"client_secret": "env:QBO_SECRET"}))
    assert err.value.setting == "quickbooks.client_secret"


def test_load_reports_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="syncd init"):
        config.load(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[web\nport = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        config.load(bad)


def test_bank_debit_strikes_defaults_to_two_and_zero_turns_holds_off() -> None:
    assert config.parse(_base()).company("123").bank_debit_strikes == 2
    off = config.parse(_base(company=[{"realm_id": "123", "bank_debit_strikes": 0}]))
    assert off.company("123").bank_debit_strikes == 0
    five = config.parse(_base(company=[{"realm_id": "123", "bank_debit_strikes": 5}]))
    assert five.company("123").bank_debit_strikes == 5


@pytest.mark.parametrize("bad", [-1, 101, 2.5, "2", True])
def test_bank_debit_strikes_must_be_a_count_from_0_to_100(bad: object) -> None:
    with pytest.raises(ConfigError) as err:
        config.parse(_base(company=[{"realm_id": "1", "bank_debit_strikes": bad}]))
    assert err.value.setting == "company[0].bank_debit_strikes"


def test_web_security_settings() -> None:
    plain = config.parse(_base())
    assert plain.trusted_proxies == ("127.0.0.1", "::1") and plain.metrics_token is None
    assert not plain.https
    s = config.parse(
        _base(
            web={
                "public_url": "https://pay.example.com",
                "trusted_proxies": ["10.0.0.0/8", "fd00::1", "*"],
                "metrics_token": "0123456789abcdef",
            }
        )
    )
    assert s.https and s.trusted_proxies == ("10.0.0.0/8", "fd00::1", "*")
    assert s.metrics_token == "0123456789abcdef"


@pytest.mark.parametrize(
    ("web", "setting"),
    [
        ({"trusted_proxies": "10.0.0.1"}, "web.trusted_proxies"),
        ({"trusted_proxies": ["proxy.internal"]}, "web.trusted_proxies"),
        ({"metrics_token": "short"}, "web.metrics_token"),
        ({"metrics_token": "has a space in it here"}, "web.metrics_token"),
    ],
)
def test_web_security_errors_name_the_setting(web: dict[str, Any], setting: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config.parse(_base(web=web))
    assert caught.value.setting == setting


def test_first_sync_defaults_to_link_only_and_names_the_choices() -> None:
    assert config.parse(_base()).company("123").first_sync is config.FirstSync.LINK_ONLY
    for choice in ("link_only", "email_open", "email_not_overdue"):
        parsed = config.parse(_base(company=[{"realm_id": "123", "first_sync": choice}]))
        assert parsed.company("123").first_sync.value == choice
    with pytest.raises(ConfigError) as err:
        config.parse(_base(company=[{"realm_id": "1", "first_sync": "email_all"}]))
    assert err.value.setting == "company[0].first_sync"
    assert "link_only, email_open, email_not_overdue" in err.value.problem


def test_payout_banks_per_currency_with_the_home_bank_for_the_home_currency() -> None:
    accounts = {"bank": "Checking", "banks": {"JPY": "Yen Checking"}}
    names = config.parse(_base(company=[{"realm_id": "1", "accounts": accounts}])).company("1").accounts
    assert names.banks == (("JPY", "Yen Checking"),)
    assert names.bank_for("jpy", "USD") == "Yen Checking"
    assert names.bank_for("USD", "USD") == "Checking"
    assert names.bank_for("EUR", "USD") is None  # held, never booked into the dollar account


@pytest.mark.parametrize(("banks", "setting"), [({"yen": "X"}, "yen"), ({"JPY": 5}, "JPY")])
def test_payout_banks_name_the_bad_setting(banks: dict[str, object], setting: str) -> None:
    with pytest.raises(ConfigError) as err:
        config.parse(_base(company=[{"realm_id": "1", "accounts": {"banks": banks}}]))
    assert err.value.setting == f"company[0].accounts.banks.{setting}"


@pytest.mark.parametrize(
    ("data", "setting"),
    [
        (_base(smtp={"from": "billing@acme.example\r\nBcc: x@evil.example"}), "smtp.from"),
        (_base(smtp={"from": "no-domain"}), "smtp.from"),
        (
            _base(company=[{"realm_id": "1", "staff_email": "a@b.example, c@d.example"}]),
            "company[0].staff_email",
        ),
        (
            _base(company=[{"realm_id": "1", "branding": {"contact_email": "x\ny@z.example"}}]),
            "company[0].branding.contact_email",
        ),
    ],
)
def test_email_settings_must_be_one_address(data: dict[str, Any], setting: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config.parse(data)
    assert caught.value.setting == setting


def test_named_sender_is_allowed() -> None:
    s = config.parse(_base(smtp={"from": "Acme Billing <billing@acme.example>"}))
    assert s.smtp.from_addr == "Acme Billing <billing@acme.example>"


def test_locale_defaults_to_en_us_and_takes_any_babel_locale() -> None:
    assert config.parse(_base()).company("123").locale == "en_US"
    german = config.parse(_base(company=[{"realm_id": "123", "locale": "de_DE"}]))
    assert german.company("123").locale == "de_DE"


@pytest.mark.parametrize("bad", ["xx_YY", "not a locale", 5])
def test_unknown_locale_is_one_line_naming_the_setting(bad: object) -> None:
    with pytest.raises(ConfigError) as err:
        config.parse(_base(company=[{"realm_id": "1", "locale": bad}]))
    assert err.value.setting == "company[0].locale"
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_base(web={"port": "80"}), "web.port: must be a whole number from 1 to 65535"),
        (_base(web={"port": True}), "web.port: must be a whole number from 1 to 65535"),
        (_base(scheduler={"pull_seconds": 0.5}), "scheduler.pull_seconds: must be a number of at least 1.0"),
        (
            _base(company=[{"realm_id": "1", "allow_partial": "yes"}]),
            "company[0].allow_partial: must be true or false",
        ),
        (_base(database={"url": 5}), "database.url: must be a string, not int"),
        (_base(web="x"), "web: must be a table"),
        (_base(company={"realm_id": "1"}), "company: must be an array of tables: [[company]]"),
        (
            _base(company=[{"realm_id": "1", "sending_hour": 24}]),
            "company[0].sending_hour: must be a whole number from 0 to 23",
        ),
        (
            _base(smtp={"sender": "x"}),
            "smtp.sender: unknown setting "
            "(known: from, host, password, port, security, timeout_seconds, username)",
        ),
        (
            _base(company=[{"realm_id": "1", "accounts": {"fees": 5}}]),
            "company[0].accounts.fees: must be a string, not int",
        ),
        (
            _base(quickbooks={"environment": "http://sim/discovery"}),
            "quickbooks.api_base_url: is required when environment is a discovery URL",
        ),
    ],
)
def test_errors_are_one_plain_line(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        config.parse(data)
    assert str(err.value) == message


def test_smtp_port_follows_security_unless_given() -> None:
    assert config.parse(_base(smtp={"security": "tls"})).smtp.port == 465
    assert config.parse(_base(smtp={"security": "none"})).smtp.port == 25
    assert config.parse(_base(smtp={"security": "tls", "port": 2465})).smtp.port == 2465


def test_company_defaults_come_from_the_one_definition() -> None:
    company = config.parse(_base()).company("123")
    assert company.branding == config.DEFAULT_BRANDING and company.branding.accent_color == "#2e8540"
    assert company.accounts.fee_expense == "Stripe Fees" and company.accounts.banks == ()
    assert company.reminder_days == (3, 10) and company.min_partial == Decimal("1.00")


def test_indirections_resolve_inside_companies_and_name_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAFF", "office@example.com")
    s = config.parse(_base(company=[{"realm_id": "1", "staff_email": "env:STAFF"}]))
    assert s.company("1").staff_email == "office@example.com"
    monkeypatch.delenv("STAFF")
    with pytest.raises(ConfigError) as err:
        config.parse(_base(company=[{"realm_id": "1", "branding": {"contact_email": "env:STAFF"}}]))
    assert err.value.setting == "company[0].branding.contact_email"
