"""Performing a batch of money entries: the persisted composition sent once under its key, and
each answer recorded on its member effect as its own handler would (see ``syncd.stages.batching``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy.orm import Session

from syncd.catalog import EffectKind
from syncd.catalog.payloads_batch import BatchMember, EntryBatch, from_plain, load
from syncd.context import Context
from syncd.domain import BalanceTxn, QboEntryRef, QboPaymentBooked, QboPaymentDraft, QboPurchaseDraft
from syncd.errors import OpenBalanceError, SyncdError, ValidationError
from syncd.ports.quickbooks import WriteItem
from syncd.stages.batching import IN_BATCH, SINGLE, pin_owner
from syncd.stages.books import charges
from syncd.stages.books.fees import FeeFacts, fee_recorded
from syncd.stages.books.movements import EntryLink
from syncd.stages.notify import queue_staff_alert
from syncd.stages.reconcile import payment_recorded
from syncd.store import effects
from syncd.store.effects import Claimed
from syncd.worker import Done

log = structlog.get_logger("syncd.batching")


def draft_of(member: BatchMember) -> QboPaymentDraft | QboPurchaseDraft:
    if member.kind == EffectKind.QBO_PAYMENT:
        return load(QboPaymentDraft, member.draft)
    return load(QboPurchaseDraft, member.draft)


def write_entry_batch(ctx: Context, effect: Claimed) -> Done:
    """Send the batch exactly as persisted, under its key; record each answer on its member."""
    realm = effect.company_id
    batch = EntryBatch.of(effect)
    items = [WriteItem(m.key, draft_of(m)) for m in batch.members]
    try:
        results: list[QboEntryRef | SyncdError] = ctx.qbo(realm).write_batch(items, request_id=effect.key)
    except ValidationError as exc:  # QBO refused the call itself: none of it was created
        results = [exc] * len(items)
    # Anything else (a timeout, a 5xx, throttling, an answer that does not parse) is raised: the
    # worker retries the same batch under the same key, its members pinned to it meanwhile.
    owner = pin_owner(effect.key)
    outcomes = [_outcome(ctx, realm, m, r) for m, r in zip(batch.members, results, strict=True)]
    written = sum(isinstance(r, QboEntryRef) for r in results)

    def apply(session: Session) -> None:
        for member, outcome in zip(batch.members, outcomes, strict=True):
            pinned = effects.pinned(session, member.key, owner)
            if pinned is None:
                log.warning("batch.member_gone", batch=effect.key, effect=member.key)
                continue
            outcome(session, pinned)

    return Done(remote_id=f"{written}/{len(items)} entries", apply=apply)


Outcome = Callable[[Session, Claimed], None]


def _outcome(ctx: Context, realm: str, member: BatchMember, result: QboEntryRef | SyncdError) -> Outcome:
    if isinstance(result, QboEntryRef):
        done = _recorded(ctx, realm, member, result)

        def complete(session: Session, pinned: Claimed) -> None:
            effects.complete(session, pinned, now=ctx.clock(), remote_id=done.remote_id)
            if done.apply is not None:
                done.apply(session)

        return complete
    error = f"in batch: {result}"
    if isinstance(result, ValidationError):
        # Refused, so not created: the entry goes alone from now on, under its own key.
        # A Payment refused because of its invoices counts towards booking the charge as
        # customer credit, as its own write's refusal would.
        counted = isinstance(result, OpenBalanceError) and member.kind == EffectKind.QBO_PAYMENT

        def alone(session: Session, pinned: Claimed) -> None:
            changes: dict[str, Any] = {SINGLE: True, IN_BATCH: None}
            if counted:
                changes[charges.REFUSED] = int(pinned.payload.get(charges.REFUSED, 0)) + 1
            effects.unpin(session, pinned, at=ctx.clock(), error=error, **changes)

        log.info("batch.member_alone", effect=member.key, error=str(result))
        return alone

    # QBO did not say it refused the item (a fault of another kind): it may exist, and writing it
    # again alone could book it twice. The ledger keeps what QBO answered; staff are told.
    unknown = f"batch answer left it unknown whether QBO created it: {result} (check QuickBooks)"

    def failed(session: Session, pinned: Claimed) -> None:
        effects.fail_in(session, pinned, error=unknown, now=ctx.clock())
        queue_staff_alert(
            ctx,
            session,
            realm,
            f"batch-unknown:{member.key}",
            "A QuickBooks entry needs checking",
            f"syncd wrote {member.key} in a batch and QuickBooks answered: {result}. It may or may "
            "not have been created; check QuickBooks and book it by hand if it is missing.",
            ctx.clock(),
        )

    log.error("batch.member_unknown", effect=member.key, error=str(result))
    return failed


def _recorded(ctx: Context, realm: str, member: BatchMember, entry: QboEntryRef) -> Done:
    finish = load_finish(member)
    if member.kind == EffectKind.QBO_PAYMENT:
        draft = load(QboPaymentDraft, member.draft)
        received = Decimal(str(finish["received"]))
        applied = sum((line.amount for line in draft.lines), Decimal(0))
        booked = charges.Booked(QboPaymentBooked(entry, draft.lines, received - applied), ())
        apply = payment_recorded(
            ctx,
            realm,
            str(finish["payment_key"]),
            booked,
            intent_id=str(finish["intent_id"]),
            txn_id=finish.get("txn_id"),
            received=received,
            currency=str(finish["currency"]),
            changed=bool(finish["changed"]),
        )
        return Done(remote_id=entry.qbo_id, apply=apply)
    txn = from_plain(BalanceTxn, finish["txn"])
    entries = tuple(
        EntryLink(str(role), str(entity), str(qbo_id), Decimal(str(clearing)))
        for role, entity, qbo_id, clearing in finish["entries"]
    )
    facts = FeeFacts(txn, entries, Decimal(str(finish["fee"])), None)
    return fee_recorded(realm, facts, entry)


def load_finish(member: BatchMember) -> dict[str, Any]:
    found = json.loads(member.finish)
    return dict(found) if isinstance(found, dict) else {}


def tell_staff_batch_held(ctx: Context, session: Session, effect: Claimed, error: str) -> None:
    """The first time a batch is held: its entries wait on it, so staff hear of it once."""
    count = len(effect.payload.get("members") or ())
    queue_staff_alert(
        ctx,
        session,
        effect.company_id,
        f"held:{effect.key}",
        "Payments are not in QuickBooks yet",
        f"A batch of {count} QuickBooks entries (Payments and fees) was refused: {error}. syncd keeps "
        "retrying the same batch and books them once the cause is fixed; `syncd failed` lists it.",
        ctx.clock(),
    )
