"""``log_format = "json"``: every line ``syncd run`` writes is one JSON object, the web server's too;
and where the lines go (stdout, or the stream a benchmark names: it keeps stdout for its figures)."""

from __future__ import annotations

import io
import json
import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from loopback import free_port
from processes import SYNCD, signal_when_healthy

from connectors.stripe.simulator import StripeSimulator
from syncd import logs
from syncd.secrets import SecretBox


@pytest.fixture
def stripe_sim() -> Iterator[StripeSimulator]:
    with StripeSimulator() as sim:
        yield sim


def test_json_logs_are_one_object_per_line_including_the_web_server(
    tmp_path: Path, stripe_sim: StripeSimulator
) -> None:
    port = free_port()
    config = tmp_path / "syncd.toml"
    config.write_text(
        f'secret_key = "{SecretBox.generate()}"\nlog_level = "info"\nlog_format = "json"\n'
        f'[database]\nurl = "sqlite:///{tmp_path}/syncd.db"\n[web]\nport = {port}\n'
        f'[stripe]\napi_key = "{stripe_sim.api_key}"\napi_base = "{stripe_sim.url}"\n'
    )
    proc = subprocess.Popen(
        [SYNCD, "--config", str(config), "run"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    out, err = signal_when_healthy(proc, port)
    assert proc.returncode == 0, err
    records = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert all({"event", "level", "timestamp"} <= set(r) for r in records), out
    events = {r["event"] for r in records}
    assert {"syncd_ready", "syncd_stopped"} <= events
    web = [r for r in records if str(r.get("logger", "")).startswith("uvicorn")]
    assert web, f"no web server line in {events}"
    assert err.strip() == ""


def test_a_benchmark_logs_to_the_stream_it_names_and_keeps_stdout_for_its_figures(
    capsys: pytest.CaptureFixture[str],
) -> None:
    stream = io.StringIO()
    logs.configure("error", "json", stream=stream)
    structlog.get_logger("syncd.test").error("job_failed", job="pull:1")
    logging.getLogger("uvicorn.error").error("server gone")
    structlog.get_logger("syncd.test").info("not shown")
    assert capsys.readouterr().out == ""
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["event"] for line in lines] == ["job_failed", "server gone"]


def test_by_default_lines_go_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("info", "json")
    structlog.get_logger("syncd.test").info("scheduler_started")
    assert json.loads(capsys.readouterr().out)["event"] == "scheduler_started"
