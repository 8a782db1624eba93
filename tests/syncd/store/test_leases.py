"""Company leases taken over from a lapsed owner, and requests left for whoever holds a lease."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from syncd.store import effects, leases
from syncd.store.engine import Database
from syncd.store.owners import release_claims

T0 = datetime.now(UTC)


def test_take_says_from_whom_a_lapsed_lease_was_taken(db: Database) -> None:
    assert leases.take(db, "company:1", "a", now=T0, seconds=10) == leases.Taken(True)
    assert leases.take(db, "company:1", "a", now=T0, seconds=10) == leases.Taken(True)  # renewed
    assert leases.take(db, "company:1", "b", now=T0 + timedelta(seconds=5), seconds=10) == leases.Taken(False)
    later = T0 + timedelta(seconds=11)
    assert leases.take(db, "company:1", "b", now=later, seconds=10) == leases.Taken(True, lapsed_from="a")
    assert leases.holder(db, "company:1", now=later) == "b"
    assert not leases.acquire(db, "company:1", "a", now=later, seconds=10)


def test_a_request_is_taken_once_by_the_holder_and_lapses(db: Database) -> None:
    leases.request(db, "pull:1", "replica-b", now=T0, seconds=10)
    leases.request(db, "pull:1", "replica-c", now=T0, seconds=10)  # asked twice: one request
    leases.request(db, "pull:2", "replica-b", now=T0 - timedelta(seconds=20), seconds=10)  # lapsed
    leases.request(db, "pull:3", "replica-b", now=T0, seconds=10)
    assert leases.take_requests(db, [], now=T0) == []
    assert leases.take_requests(db, ["pull:1", "pull:2"], now=T0) == ["pull:1"]
    assert leases.take_requests(db, ["pull:1", "pull:2"], now=T0) == []
    assert leases.take_requests(db, ["pull:3"], now=T0) == ["pull:3"]  # not the caller's to drop before
    # A request is no lease: nobody holds ``pull:1`` or the company through one.
    assert leases.holder(db, "pull:1", now=T0) is None


def test_a_takeover_frees_the_lapsed_owners_claims_in_that_company_only(db: Database) -> None:
    with db.transaction() as session:
        for key, company in (("e1", "1"), ("e2", "2"), ("e3", "1")):
            effects.insert(session, key=key, kind="k", company_id=company, payload={}, now=T0)
    assert len(effects.claim(db, owner="dead", now=T0, lease_seconds=600, limit=2)) == 2
    assert [c.key for c in effects.claim(db, owner="alive", now=T0, lease_seconds=600)] == ["e3"]
    assert release_claims(db, "dead", "1") == 1
    later = T0 + timedelta(seconds=1)
    assert [c.key for c in effects.claim(db, owner="new", now=later)] == ["e1"]  # e2, e3 stay held
