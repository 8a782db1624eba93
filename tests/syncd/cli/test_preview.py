"""``syncd preview`` from the command line: one line naming what to do when it cannot rehearse."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncd.cli.main import run
from syncd.secrets import SecretBox


@pytest.fixture
def config(tmp_path: Path) -> str:
    path = tmp_path / "syncd.toml"
    path.write_text(
        f'secret_key = "{SecretBox.generate()}"\n[database]\nurl = "sqlite:///{tmp_path}/s.db"\n'
        '[[company]]\nrealm_id = "123"\nfirst_sync = "email_not_overdue"\n'
    )
    return str(path)


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_each_reason_it_cannot_run_is_one_line(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--config", config, "preview"]) == 78
    assert "run `syncd migrate`" in _one_line(capsys.readouterr().err)
    assert run(["--config", config, "migrate"]) == 0
    capsys.readouterr()
    assert run(["--config", config, "preview", "--company", "999"]) == 78
    assert _one_line(capsys.readouterr().err) == "syncd: company: no company '999' is configured"
    assert run(["--config", config, "preview"]) == 1
    assert "never connected" in _one_line(capsys.readouterr().err)


def test_without_reading_quickbooks_it_plans_from_what_is_stored(
    config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["--config", config, "migrate"]) == 0
    capsys.readouterr()
    assert run(["--config", config, "preview", "--no-pull"]) == 0
    out = capsys.readouterr().out
    assert 'First sync, first_sync = "email_not_overdue": the open invoices not yet overdue' in out
    assert "No email would be sent." in out
