"""The unit file: always parsed and checked for the options the service relies on; verified with
``systemd-analyze verify`` too wherever that tool exists."""

from __future__ import annotations

import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[3] / "systemd" / "syncd.service"

HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectKernelLogs": "yes",
    "ProtectControlGroups": "yes",
    "RestrictNamespaces": "yes",
    "LockPersonality": "yes",
    "MemoryDenyWriteExecute": "yes",
    "CapabilityBoundingSet": "",
    "UMask": "0077",
}


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], defaultdict(list))
            continue
        assert current is not None, f"option outside a section: {line}"
        key, sep, value = line.partition("=")
        assert sep, f"not key=value: {line}"
        current[key.strip()].append(value.strip())
    return sections


@pytest.fixture(scope="module")
def unit() -> dict[str, dict[str, list[str]]]:
    return parse_unit(UNIT.read_text())


def test_service_type_and_lifecycle(unit: dict[str, dict[str, list[str]]]) -> None:
    service = unit["Service"]
    assert service["Type"] == ["notify"]
    assert service["WatchdogSec"] == ["30"]
    assert service["ExecStart"] == ["/usr/local/bin/syncd run --config /etc/syncd/syncd.toml"]
    assert service["StateDirectory"] == ["syncd"]
    assert service["DynamicUser"] == ["yes"] or service.get("User") == ["syncd"]
    assert "78" in service["RestartPreventExitStatus"][0].split()
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]


def test_hardening_options(unit: dict[str, dict[str, list[str]]]) -> None:
    service = unit["Service"]
    for key, value in HARDENING.items():
        assert service.get(key) == [value], key
    assert service["RestrictAddressFamilies"] == ["AF_UNIX AF_INET AF_INET6"]
    assert "@system-service" in service["SystemCallFilter"]


def test_every_secret_arrives_as_a_credential(unit: dict[str, dict[str, list[str]]]) -> None:
    service = unit["Service"]
    loaded = service.get("LoadCredentialEncrypted", []) + service.get("LoadCredential", [])
    names = {entry.split(":", 1)[0] for entry in loaded}
    assert {"secret_key", "stripe_api_key", "qbo_client_secret", "smtp_password"} <= names
    for entry in loaded:
        assert entry.split(":", 1)[1].startswith("/etc/syncd/credentials/")


def test_example_config_refers_to_the_same_credentials(unit: dict[str, dict[str, list[str]]]) -> None:
    example = (UNIT.parents[1] / "config" / "syncd.example.toml").read_text()
    service = unit["Service"]
    names = {e.split(":", 1)[0] for e in service.get("LoadCredentialEncrypted", [])}
    for name in names:
        assert f"credential:{name}" in example, name


def test_systemd_analyze_verify(tmp_path: Path) -> None:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        # No systemd here: the parsing tests above are the check.
        assert parse_unit(UNIT.read_text())["Service"]["Type"] == ["notify"]
        return
    # verify insists the binary exists; point ExecStart at one that does, change nothing else.
    copy = tmp_path / "syncd.service"
    executable = shutil.which("true") or "/bin/true"
    copy.write_text(UNIT.read_text().replace("/usr/local/bin/syncd", executable))
    done = subprocess.run([tool, "verify", str(copy)], capture_output=True, text=True, timeout=60)
    problems = [line for line in done.stderr.splitlines() if "syncd.service" in line]
    assert done.returncode == 0, done.stderr
    assert problems == [], problems


def test_verify_would_catch_a_typo(tmp_path: Path) -> None:
    tool = shutil.which("systemd-analyze")
    broken = UNIT.read_text().replace("ProtectSystem=strict", "ProtectSystm=strict")
    if tool is None:
        assert "ProtectSystem" not in parse_unit(broken)["Service"]
        return
    copy = tmp_path / "syncd.service"
    copy.write_text(broken.replace("/usr/local/bin/syncd", shutil.which("true") or "/bin/true"))
    done = subprocess.run([tool, "verify", str(copy)], capture_output=True, text=True, timeout=60)
    assert "ProtectSystm" in done.stderr
