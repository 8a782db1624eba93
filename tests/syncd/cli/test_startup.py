"""``syncd run`` checks everything before it binds its port: each failure is the real command's one
line on stderr naming the setting, with exit 78 (fix it) or 75 (it may come back)."""

from __future__ import annotations

import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from loopback import free_port, wait_healthy
from processes import SYNCD

from connectors.stripe.simulator import StripeSimulator
from syncd.secrets import SecretBox

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="module")
def stripe_sim() -> Iterator[StripeSimulator]:
    with StripeSimulator() as sim:
        yield sim


def write_config(
    tmp_path: Path,
    stripe_sim: StripeSimulator,
    *,
    port: int | None = None,
    api_key: str | None = None,
    database: str | None = None,
    top: str = "",
    web: str = "",
    stripe: str = 'webhook_secret = "whsec_x"\n',
) -> Path:
    config = tmp_path / "syncd.toml"
    key = stripe_sim.api_key if api_key is None else api_key
    config.write_text(
        f'secret_key = "{SecretBox.generate()}"\nlog_level = "warning"\n{top}'
        f'[database]\nurl = "{database or f"sqlite:///{tmp_path}/syncd.db"}"\n'
        f"[web]\nport = {port or free_port()}\n{web}"
        f'[stripe]\napi_key = "{key}"\napi_base = "{stripe_sim.url}"\n{stripe}'
    )
    return config


def run_syncd(config: Path, timeout: float = 60) -> tuple[int, str]:
    """The installed ``syncd`` console script, as an operator types it; (exit code, stderr)."""
    proc = subprocess.run(
        [SYNCD, "--config", str(config), "run"], capture_output=True, text=True, timeout=timeout, check=False
    )
    return proc.returncode, proc.stderr


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_a_refused_stripe_key_stops_the_start(tmp_path: Path, stripe_sim: StripeSimulator) -> None:
    code, err = run_syncd(write_config(tmp_path, stripe_sim, api_key="sk_test_wrongbutwellformed"))
    line = one_line(err)
    assert code == 78
    assert line.startswith("syncd: stripe.api_key: Stripe refused this key (")
    assert "Invalid API Key" in line


def test_an_unreachable_database_server_is_temporary(tmp_path: Path, stripe_sim: StripeSimulator) -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/test"
    code, err = run_syncd(write_config(tmp_path, stripe_sim, database=url))
    line = one_line(err)
    assert code == 75
    assert line.startswith("syncd: database.url: cannot reach the database (")
    assert "Connection refused" in line


def test_a_wrong_database_role_is_a_configuration_error(tmp_path: Path, stripe_sim: StripeSimulator) -> None:
    url = POSTGRES.replace("postgres@", "nosuchrole@")
    code, err = run_syncd(write_config(tmp_path, stripe_sim, database=url))
    line = one_line(err)
    assert code == 78
    assert line.startswith("syncd: database.url: the database refused the connection (")
    assert 'role "nosuchrole" does not exist' in line


def test_a_missing_sqlite_directory_is_a_configuration_error(
    tmp_path: Path, stripe_sim: StripeSimulator
) -> None:
    url = f"sqlite:///{tmp_path}/missing/syncd.db"
    code, err = run_syncd(write_config(tmp_path, stripe_sim, database=url))
    assert code == 78
    assert (
        one_line(err)
        == f"syncd: database.url: the SQLite directory {tmp_path}/missing does not exist: create it"
    )


def test_a_busy_port_does_not_hide_a_missing_key(tmp_path: Path, stripe_sim: StripeSimulator) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        config = write_config(tmp_path, stripe_sim, port=busy.getsockname()[1], api_key="")
        code, err = run_syncd(config)
    assert code == 78
    assert one_line(err) == "syncd: stripe.api_key: is required to take payments"


def test_a_port_held_by_another_program_names_web_port(tmp_path: Path, stripe_sim: StripeSimulator) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, err = run_syncd(write_config(tmp_path, stripe_sim, port=port))
    assert code == 78
    assert one_line(err) == (
        f"syncd: web.port: 127.0.0.1:{port} is in use by another program: stop it or choose another web.port"
    )


@pytest.mark.parametrize(
    ("top", "web", "stripe", "expected"),
    [
        ('log_level = "verbose"\n', "", "", "syncd: log_level: must be one of debug, info, warning, error"),
        ("", 'template_dir = "nowhere"\n', "", "syncd: web.template_dir: "),
        ("", "", 'webhook_secret = "abc"\n', "syncd: stripe.webhook_secret: must be the endpoint's signing"),
    ],
    ids=["log_level", "template_dir", "webhook_secret"],
)
def test_invalid_values_stop_the_start(
    tmp_path: Path, stripe_sim: StripeSimulator, top: str, web: str, stripe: str, expected: str
) -> None:
    # log_level is repeated by the test config; TOML refuses duplicate keys, so replace it.
    config = write_config(tmp_path, stripe_sim, web=web, stripe=stripe)
    if top:
        config.write_text(config.read_text().replace('log_level = "warning"\n', top))
    code, err = run_syncd(config)
    assert code == 78
    assert one_line(err).startswith(expected)


@pytest.mark.parametrize("command", ["status", "migrate"])
def test_other_commands_name_the_database_setting_too(
    tmp_path: Path, stripe_sim: StripeSimulator, command: str
) -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/test"
    config = write_config(tmp_path, stripe_sim, database=url)
    proc = subprocess.run(
        [SYNCD, "--config", str(config), command], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 75
    assert one_line(proc.stderr).startswith("syncd: database.url: cannot reach the database (")


def test_a_port_held_by_a_running_syncd_is_temporary(tmp_path: Path, stripe_sim: StripeSimulator) -> None:
    port = free_port()
    config = write_config(tmp_path, stripe_sim, port=port)
    first = subprocess.Popen(
        [SYNCD, "--config", str(config), "run"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_healthy(port)
        code, err = run_syncd(config)
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)
    assert code == 75
    assert one_line(err) == (
        f"syncd: web.port: 127.0.0.1:{port} is in use by another syncd (stop it first, or wait)"
    )
