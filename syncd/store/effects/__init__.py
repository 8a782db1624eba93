"""The effect ledger (outbox): every remote side effect is a row with a deterministic key first.

Contract:
- ``enqueue`` runs inside the caller's transaction, next to the state change that calls for the
  effect; a second enqueue of the same key is a no-op, so callers never check first.
- ``claim`` leases due effects to one owner for ``lease`` seconds in its own transaction; an
  expired lease (the owner died) makes the effect claimable again. On PostgreSQL, ``SKIP LOCKED``
  lets several workers claim concurrently; SQLite serialises writers anyway.
- ``enqueue`` takes a typed payload from the catalog (``syncd.catalog``), which gives the key, kind,
  priority and serial group.
- An effect may belong to a serial group (``serial_group``, from the catalog): ``claim`` and
  ``claim_key`` never hand out an effect of a group while another of that group is leased by a
  live owner, or is pending and due before it (ties: the older first). Money effects that change
  one customer's invoices or credit take the group ``Serial.MONEY`` of that customer, so they run
  one after another; everything else stays parallel. The check runs in the claiming
  transaction; on PostgreSQL the earlier effect is either visible as pending (it blocks) or locked
  by its claimer (leased, it blocks once committed; ``SKIP LOCKED`` skips it meanwhile).
- ``hold`` keeps an effect that must not fail (a charge Stripe took) pending with a note of when
  it was first held; ``held`` lists those for ``syncd status`` and ``syncd failed``.
- The owner performs the effect remotely *with the key* (QBO requestid, Stripe Idempotency-Key,
  email Message-ID), then calls ``complete`` in the transaction that records what it changed. If
  the lease was lost meanwhile, ``complete`` raises ``LeaseLost`` and that transaction rolls back;
  the next owner replays the same key and the remote answers with the same object.

Callers use the package (``effects.claim``); the work is in ``rows`` (statuses, ``Claimed``,
``LeaseLost``), ``queueing``, ``claims``, ``pins``, ``outcomes``, ``requeue`` and ``listing``.
"""

from __future__ import annotations

from syncd.store.effects.claims import claim, claim_key, due_companies, ready, release
from syncd.store.effects.listing import counts, get, held
from syncd.store.effects.outcomes import amend, complete, fail, fail_in, hold, retry_later
from syncd.store.effects.pins import pin, pinned, unpin
from syncd.store.effects.queueing import enqueue, enqueue_many, insert
from syncd.store.effects.requeue import AWAITS_SETTING, due_awaiting_settings, requeue_failed, requeue_one
from syncd.store.effects.rows import Claimed, EffectStatus, LeaseLost, payload_text

__all__ = [
    "AWAITS_SETTING",
    "Claimed",
    "EffectStatus",
    "LeaseLost",
    "amend",
    "claim",
    "claim_key",
    "complete",
    "counts",
    "due_awaiting_settings",
    "due_companies",
    "enqueue",
    "enqueue_many",
    "fail",
    "fail_in",
    "get",
    "held",
    "hold",
    "insert",
    "payload_text",
    "pin",
    "pinned",
    "ready",
    "release",
    "requeue_failed",
    "requeue_one",
    "retry_later",
    "unpin",
]
