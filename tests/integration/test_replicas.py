"""Replicas: several ``syncd run`` processes on one PostgreSQL share the companies through their
leases, serve webhooks and portal pages of every company, and take over a SIGKILLed replica's
companies within the lease TTL and one cycle, with every payment booked once."""

from __future__ import annotations

import re
import socket
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from loopback import free_port
from qbo_tokens import tokens_from
from sqlalchemy import func, select
from world import Daemon, PortalClient, World

from syncd.config import load
from syncd.secrets import SecretBox
from syncd.store.engine import Database
from syncd.store.models import Company, Effect, InvoiceRow, Lease
from syncd.store.tokens import EncryptedTokenStore

LEASE_SECONDS = 6.0
WORKER_SECONDS = 0.2
# Longer than anything here waits for: a pull comes from a QBO webhook or a takeover.
PULL_SECONDS = 60.0
# The lease TTL and one cycle: the survivors' lease beat (the worker interval) finds the lease
# lapsed, the takeover pulls at once and the worker books; a second covers the pull and the write.
TAKEOVER_BOUND = LEASE_SECONDS + WORKER_SECONDS + 1.0
# The seeded company of ``world`` plus two more on the same QBO simulator and Stripe account.
EXTRA = {"9130350000000002": "Contoso Alarms", "9130350000000003": "Fabrikam Cleaning"}
INVOICE_SUBJECT = re.compile(r"^Invoice (\S+) from ([^:]+): ")
# One customer's several invoices in one message: each listed with its own link.
COMBINED_SUBJECT = re.compile(r"^\d+ invoices from ([^:]+): ")
COMBINED_ITEM = re.compile(r"^Invoice (\S+)(?: \(new\))?$.*?Pay online: (\S+)", re.M | re.S)
RECEIPT_SUBJECT = re.compile(r"^Receipt: ")

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@dataclass
class Replica:
    name: str
    daemon: Daemon
    url: str

    @property
    def pid(self) -> int | None:
        proc = self.daemon.proc
        return proc.pid if proc is not None else None


def _config(world: World, database_url: str) -> str:
    """``world``'s config on ``database_url`` with a short lease and the two extra companies,
    their tokens connected; the text each replica's config is made from."""
    world.write_config(database_url=database_url)
    text = (
        world.config_path.read_text()
        .replace("pull_seconds = 2\n", f"pull_seconds = {PULL_SECONDS}\n")
        .replace("worker_seconds = 0.2\n", f"worker_seconds = {WORKER_SECONDS}\n")
        .replace("refresh_seconds = 600\n", f"refresh_seconds = 600\nlease_seconds = {LEASE_SECONDS}\n")
    )
    for realm, name in EXTRA.items():
        text += (
            f'\n[[company]]\nrealm_id = "{realm}"\npayment_methods = ["card"]\nreminder_days = []\n'
            'first_sync = "email_open"\n'
            f'\n[company.branding]\nname = "{name}"\ncontact_email = "billing@{realm}.test"\n'
        )
    world.config_path.write_text(text)
    settings = load(world.config_path)
    db = Database(database_url)
    try:
        store = EncryptedTokenStore(db, SecretBox(settings.secret_key))
        for realm in EXTRA:
            store.save(realm, tokens_from(world.qbo.mint_tokens(realm)))
    finally:
        db.dispose()
    return text


@pytest.fixture
def replicas(world: World, db: Database) -> Iterator[list[Replica]]:
    """Three replicas' configs (the same but for the port; the first serves ``world.url``), not
    started; all killed at teardown."""
    for index, (realm, name) in enumerate(EXTRA.items()):
        world.qbo.add_company(realm, seed=11 + index, invoices=8, company_name=name)
    text = _config(world, db.url)
    made = []
    for index in range(3):
        port = world.port if index == 0 else free_port()
        home = world.state_dir / f"replica-{index + 1}"
        home.mkdir()
        config = home / "syncd.toml"
        config.write_text(text.replace(f"\nport = {world.port}\n", f"\nport = {port}\n"))
        url = f"http://127.0.0.1:{port}"
        made.append(Replica(f"replica-{index + 1}", Daemon(config, url), url))
        if index:
            world.stripe.add_webhook_endpoint(f"{url}/webhooks/stripe", secret="whsec_integration")
    yield made
    for replica in made:
        replica.daemon.close()


def _holders(db: Database) -> dict[str, str]:
    """Company realm → owner of its live lease."""
    now = datetime.now(UTC)
    with db.transaction() as session:
        rows = session.execute(
            select(Lease.name, Lease.owner).where(Lease.name.like("company:%"), Lease.expires_at >= now)
        ).all()
    return {name.removeprefix("company:"): owner for name, owner in rows}


def _pid(owner: str) -> int:
    host, pid, _ = owner.split(":", 2)
    assert host == socket.gethostname()
    return int(pid)


def _last_pulls(db: Database) -> dict[str, datetime | None]:
    with db.transaction() as session:
        return {realm: at for realm, at in session.execute(select(Company.realm_id, Company.last_pull_at))}


def _invoice_mail(world: World) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(company name, invoice number) → (Message-ID, portal link) of each email giving its link,
    alone or combined with the customer's other invoices."""
    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for message in world.sink.mailbox.all():
        subject = " ".join(message.subject.split())
        alone, combined = INVOICE_SUBJECT.match(subject), COMBINED_SUBJECT.match(subject)
        if alone:
            links = world.portal_links(message.text)
            items = [(alone.group(1), links[0])] if links else []
            company = alone.group(2)
        elif combined:
            items = COMBINED_ITEM.findall(message.text or "")
            company = combined.group(1)
        else:
            continue
        for doc, link in items:
            found.setdefault((company, doc), []).append((message.message_id, link))
    return found


def _links(world: World) -> dict[tuple[str, str], str]:
    """(company name, invoice number) → the portal link its first email gave."""
    return {invoice: mails[0][1] for invoice, mails in _invoice_mail(world).items()}


def _open_docs(world: World, realm: str) -> set[str]:
    return {
        str(inv["DocNumber"])
        for inv in world.qbo.entities("Invoice", realm_id=realm)
        if Decimal(str(inv.get("Balance", 0))) > 0
    }


def _booked(world: World, realm: str, intent: str) -> list[dict[str, Any]]:
    """QBO Payments in ``realm`` for the Stripe PaymentIntent ``intent``."""
    return [
        p
        for p in world.qbo.entities("Payment", realm_id=realm)
        if intent in str(p.get("PrivateNote", "")) or p.get("PaymentRefNum") == intent[:21]
    ]


class Payer:
    """Pays invoices through the portal of a chosen replica and remembers each PaymentIntent."""

    def __init__(self, world: World, names: dict[str, str]) -> None:
        self.world = world
        self.names = names  # realm → company name
        self.paid: dict[str, str] = {}  # PaymentIntent → realm
        self.used: set[str] = set()

    def pay(self, realm: str, through: Replica) -> str:
        """Pay one unpaid invoice of ``realm`` from its emailed link, served by ``through``."""
        links = _links(self.world)
        name = self.names[realm]
        open_docs = _open_docs(self.world, realm)
        doc = next(d for (n, d) in sorted(links) if n == name and d in open_docs and (n, d) not in self.used)
        self.used.add((name, doc))
        link = re.sub(r"^https?://[^/]+", through.url, links[(name, doc)])
        portal = PortalClient()
        try:
            session_id = portal.start_payment(link)
        finally:
            portal.close()
        self.world.stripe.pay_checkout(session_id, "card_success")
        session = next(s for s in self.world.stripe.objects("checkout.session") if s["id"] == session_id)
        intent = str(session["payment_intent"])
        self.paid[intent] = realm
        return intent

    def booked(self, intents: list[str] | None = None) -> bool:
        """Every payment (or those of ``intents``) is in QBO (exactly once is checked at the end)."""
        return all(_booked(self.world, self.paid[i], i) for i in intents or self.paid)


def _shared(db: Database, running: list[Replica], companies: int) -> bool:
    """Every company held, by the running replicas only, none holding more than its fair share
    (ceil(companies / replicas)) and each holding at least one."""
    holders = _holders(db)
    counts = Counter(_pid(owner) for owner in holders.values())
    share = -(-companies // len(running))
    pids = {r.pid for r in running}
    return len(holders) == companies and set(counts) == pids and max(counts.values()) <= share


def _new_invoice_through_idle_replica(world: World, db: Database, running: list[Replica]) -> None:
    """QBO's webhook for a new invoice reaches a replica that does not own the company: the owner
    pulls it at once, not a pull interval later."""
    holders = _holders(db)
    realm = next(iter(EXTRA))
    idle = next(r for r in running if r.pid != _pid(holders[realm]))
    world.qbo.set_webhook_url(f"{idle.url}/webhooks/quickbooks")
    started = time.monotonic()
    invoice = world.qbo.add_invoice(amount=Decimal("321.00"), realm_id=realm)

    def mirrored() -> bool:
        with db.transaction() as session:
            return session.get(InvoiceRow, (realm, invoice)) is not None

    world.wait_until(mirrored, timeout=PULL_SECONDS / 2, what="the new invoice pulled by its owner")
    print(f"\nQBO webhook to a non-owning replica: invoice pulled after {time.monotonic() - started:.2f} s")


def _kill_owner(replicas: list[Replica], db: Database, world: World, payer: Payer) -> dict[str, float]:
    """SIGKILL the replica holding the most companies, pay one invoice of each of its companies
    through a survivor at once, and measure per company the seconds until a survivor holds it,
    has pulled it, and has booked that payment."""
    by_pid = {r.pid: r for r in replicas if r.pid is not None}
    holders = _holders(db)
    counts = Counter(_pid(owner) for owner in holders.values())
    victim = by_pid[counts.most_common(1)[0][0]]
    orphans = sorted(realm for realm, owner in holders.items() if _pid(owner) == victim.pid)
    survivors = [r for r in by_pid.values() if r is not victim]
    killed_at_wall = datetime.now(UTC)
    killed_at = time.monotonic()
    victim.daemon.kill()
    intents = {realm: payer.pay(realm, survivors[i % len(survivors)]) for i, realm in enumerate(orphans)}
    taken: dict[str, float] = {}
    pulled: dict[str, float] = {}
    booked: dict[str, float] = {}
    live = {r.pid for r in survivors}
    deadline = killed_at + TAKEOVER_BOUND + 30
    # Until each is booked and pulled: under load a pull may end after the payment is booked.
    while min(len(booked), len(pulled)) < len(orphans) and time.monotonic() < deadline:
        now = time.monotonic() - killed_at
        holders = _holders(db)
        pulls = _last_pulls(db)
        for realm in orphans:
            if realm not in taken and realm in holders and _pid(holders[realm]) in live:
                taken[realm] = now
            last = pulls.get(realm)
            if realm not in pulled and last is not None and last > killed_at_wall:
                pulled[realm] = now
            if realm not in booked and _booked(world, realm, intents[realm]):
                booked[realm] = now
        time.sleep(0.05)
    assert len(booked) == len(orphans), f"not booked after the kill: {set(orphans) - set(booked)}"
    print(
        f"\n{victim.name} killed holding {len(orphans)} companies; lease {LEASE_SECONDS:.0f} s, "
        f"pull {PULL_SECONDS:.0f} s: taken over after {max(taken.values()):.2f} s, pulled after "
        f"{max(pulled.values()):.2f} s, payment booked after {max(booked.values()):.2f} s"
    )
    replicas.remove(victim)
    return {
        "taken": max(taken.values()),
        "pulled": max(pulled.values()),
        "booked": max(booked.values()),
        "companies": float(len(orphans)),
    }


@pytest.mark.parametrize("db", ["postgres"], indirect=True)
def test_replicas_share_companies_and_take_over_a_killed_one(
    world: World, db: Database, replicas: list[Replica]
) -> None:
    realms = [world.qbo.realm_id, *EXTRA]
    names = {world.qbo.realm_id: "Northwind IT Services", **EXTRA}
    payer = Payer(world, names)
    first, second, third = replicas
    running = [first, second]
    for replica in running:
        replica.daemon.start()
    # The two share the companies (two and one), each held by one of them; its invoices emailed once.
    world.wait_until(
        lambda: _shared(db, running, len(realms)), timeout=30, what=lambda: f"leases: {_holders(db)}"
    )
    world.wait_until(
        lambda: {n for n, _ in _links(world)} == set(names.values()),
        timeout=60,
        what=lambda: f"new-invoice emails of every company: {sorted(_links(world))}",
    )
    # Payments for every company through the portal of either replica; Stripe's webhooks reach both.
    for i, realm in enumerate(realms):
        payer.pay(realm, running[i % 2])
    world.wait_until(payer.booked, timeout=30, what="payments booked with two replicas")
    _new_invoice_through_idle_replica(world, db, running)

    first_kill = _kill_owner(running, db, world, payer)
    assert first_kill["taken"] <= TAKEOVER_BOUND
    assert first_kill["booked"] <= TAKEOVER_BOUND

    # Three replicas: the survivor, the third, and the killed one started again. A restart frees a
    # dead predecessor's leases at once (same host), so the kill comes after all three are up.
    killed = first if first not in running else second
    for replica in (third, killed):
        replica.daemon.start()
        running.append(replica)
    # Three replicas, three companies: one each (the survivor gives back what it took over).
    world.wait_until(
        lambda: _shared(db, running, len(realms)), timeout=30, what=lambda: f"leases: {_holders(db)}"
    )
    for i, realm in enumerate(realms):
        payer.pay(realm, running[i % 3])
    world.wait_until(payer.booked, timeout=30, what="payments booked with three replicas")

    second_kill = _kill_owner(running, db, world, payer)
    assert second_kill["taken"] <= TAKEOVER_BOUND
    assert second_kill["booked"] <= TAKEOVER_BOUND

    world.wait_until(payer.booked, timeout=30, what="every payment booked")
    world.wait_until(
        lambda: len(_receipts(world)) >= len(payer.paid), timeout=30, what="a receipt for every payment"
    )
    # QBO answers before the effect's own transaction commits: under load that may take a moment.
    world.wait_until(
        lambda: _done_payments(db) >= len(payer.paid), timeout=30, what="every QBO Payment effect done"
    )
    _assert_no_duplicates(world, db, payer)
    for replica in running:
        assert replica.daemon.stop() == 0, replica.daemon.tail()


def _done_payments(db: Database) -> int:
    with db.transaction() as session:
        done = select(func.count()).select_from(Effect).where(Effect.status == "done")
        return int(session.scalar(done.where(Effect.kind == "qbo.payment")) or 0)


def _assert_no_duplicates(world: World, db: Database, payer: Payer) -> None:
    """One QBO Payment per charge, one effect per key, one Message-ID per email identity."""
    for intent, realm in payer.paid.items():
        entries = _booked(world, realm, intent)
        assert len(entries) == 1, f"{intent} booked {len(entries)} times in QBO"
    intents = world.stripe.objects("payment_intent")
    assert sorted(str(pi["id"]) for pi in intents if pi["status"] == "succeeded") == sorted(payer.paid)
    with db.transaction() as session:
        twice = session.execute(
            select(Effect.key, func.count()).group_by(Effect.key).having(func.count() > 1)
        ).all()
        done = select(func.count()).select_from(Effect).where(Effect.status == "done")
        payments = session.scalar(done.where(Effect.kind == "qbo.payment"))
        undone = session.execute(
            select(Effect.key, Effect.status, Effect.lease_owner, Effect.attempts, Effect.last_error).where(
                Effect.kind == "qbo.payment", Effect.status != "done"
            )
        ).all()
    assert twice == []
    assert payments == len(payer.paid), f"QBO Payment effects not done: {undone}"
    identities = {invoice: {m for m, _ in mails} for invoice, mails in _invoice_mail(world).items()}
    assert identities and all(len(ids) == 1 for ids in identities.values()), identities
    assert len(_receipts(world)) == len(payer.paid)


def _receipts(world: World) -> set[str]:
    """Message-IDs of receipts sent."""
    return {m.message_id for m in world.sink.mailbox.all() if RECEIPT_SUBJECT.match(m.subject)}
