"""Texting over the Twilio simulator: a context whose company texts through it, a customer with a
consented number, and the effect worker run for the ``sms.message`` kind only."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loopback import free_port

from connectors.serving import ThreadedServer
from connectors.sms.simulator import TwilioSimulator
from syncd.bootstrap import build_context
from syncd.config import parse
from syncd.context import Context
from syncd.secrets import SecretBox
from syncd.store import migrate
from syncd.store import texts as store
from syncd.store.engine import Database
from syncd.store.models import Company, CustomerRow
from syncd.store.texts import ConsentSource
from syncd.web.app import create_app
from syncd.worker import run_effects

REALM = "9130350000000001"
CUSTOMER = "58"
PHONE = "+14155550123"
PUBLIC_URL = "http://testserver"
T0 = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)  # 10:00 in New York: outside quiet hours


def sms_table(sim: TwilioSimulator, **changes: Any) -> dict[str, Any]:
    return {
        "enabled": True,
        "account_sid": sim.account_sid,
        "auth_token": sim.auth_token,
        "from_number": sim.number,
        "api_base": sim.url,
        **changes,
    }


_MIGRATED: list[Path] = []


def _migrated_copy(target: Path) -> None:
    """A migrated SQLite file at ``target``: the schema is built once per test process and
    copied, so each test starts on an empty store without running every migration again."""
    if not _MIGRATED:
        template = Path(tempfile.mkdtemp(prefix="syncd-texting-")) / "template.db"
        atexit.register(shutil.rmtree, template.parent, True)
        db = Database(f"sqlite:///{template}")
        migrate.upgrade(db)
        db.dispose()
        _MIGRATED.append(template)
    shutil.copyfile(_MIGRATED[0], target)


@contextmanager
def texting_context(
    tmp_path: Path, sim: TwilioSimulator, *, clock: Any = None, public_url: str = PUBLIC_URL, **sms: Any
) -> Iterator[Context]:
    """A migrated SQLite store with the company and customer 58, texting through ``sim``."""
    settings = parse(
        {
            "secret_key": SecretBox.generate(),
            "database": {"url": f"sqlite:///{tmp_path / 'syncd.db'}"},
            "web": {"public_url": public_url},
            "quickbooks": {"client_id": "c", "client_secret": "s", "webhook_verifier_token": "verifier"},
            "stripe": {"api_key": "sk_test_123", "webhook_secret": "whsec_test"},
            "company": [
                {
                    "realm_id": REALM,
                    "timezone": "America/New_York",
                    "branding": {"name": "Northwind IT", "contact_phone": "+1 555 0100"},
                    "sms": sms_table(sim, **sms),
                }
            ],
        }
    )
    _migrated_copy(tmp_path / "syncd.db")
    ctx = build_context(settings, clock=clock or (lambda: T0))
    with ctx.db.transaction() as s:
        s.add(Company(realm_id=REALM, name="Northwind", timezone="America/New_York", created_at=T0))
        s.flush()
        s.add(
            CustomerRow(company_id=REALM, qbo_id=CUSTOMER, display_name="Amy", currency="USD", updated_at=T0)
        )
    try:
        yield ctx
    finally:
        ctx.db.dispose()


@dataclass
class Texting:
    """The Twilio simulator, a context texting through it, and syncd's app serving its webhooks."""

    sim: TwilioSimulator
    ctx: Context
    url: str


@contextmanager
def texting_world(tmp_path: Path, *, clock: Any = None, **sms: Any) -> Iterator[Texting]:
    """syncd's app on a loopback port, the simulator posting incoming texts and status callbacks
    to it (10 messages a second per sender, so tests do not wait on the rate limit)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (
        TwilioSimulator(sms_url=f"{url}/webhooks/twilio", mps=10) as sim,
        texting_context(tmp_path, sim, clock=clock, public_url=url, **sms) as ctx,
        ThreadedServer(create_app(ctx), port=port),
    ):
        yield Texting(sim, ctx, url)


def consent(ctx: Context, number: str = PHONE, customer: str = CUSTOMER) -> None:
    with ctx.db.transaction() as s:
        store.consent(
            s,
            company_id=REALM,
            customer_id=customer,
            number=number,
            source=ConsentSource.PORTAL,
            text="Text me reminders",
            now=T0,
            ip="203.0.113.9",
            user_agent="Phone/1.0",
        )


def send_texts(ctx: Context) -> int:
    """Run the worker over due texts; how many it attempted."""
    return run_effects(ctx, owner="texts-test", kinds=["sms.message"], parallel=1)
