"""ACH returns: a bank debit taken back after it succeeded voids its QBO Payment, so the invoices
it paid reopen; the return's fee is booked by ``disputes`` under the same balance transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from syncd.catalog.payloads import QboVoid
from syncd.context import Context
from syncd.errors import PermanentError, TransientError
from syncd.stages.books.movements import EntryLink, record
from syncd.stages.books.payers import payer_of
from syncd.store.effects import Claimed
from syncd.worker import Done


def void_returned_payment(ctx: Context, effect: Claimed) -> Done:
    """Key ``qbo:void:<pi_…>``."""
    realm = effect.company_id
    void = QboVoid.of(effect)
    intent_id = void.payment_intent_id
    payer = payer_of(ctx, intent_id)
    if payer is None:
        raise PermanentError(f"no syncd payment for returned debit {intent_id}")
    payment_id = payer.qbo_payment_id
    if payment_id is None:
        # The Payment is still on its way into QBO (its own effect): void it once it is there.
        raise TransientError(f"the QBO Payment for {intent_id} is not recorded yet")
    dispute = ctx.stripe.get_dispute(void.dispute_id)
    txn_id = void.balance_txn_id
    txn = next((t for t in dispute.balance_txns if t.id == txn_id), None)
    if txn is None:
        raise PermanentError(f"balance transaction {txn_id} is not on {dispute.id}")
    entry = ctx.qbo(realm).void_payment(payment_id, request_id=effect.key)

    def apply(session: Session) -> None:
        # The void takes back what the Payment deposited: the withdrawn amount, fee excluded.
        record(session, realm, txn, EntryLink("void", "Payment", entry.qbo_id, txn.amount))
        ctx.wake("pull", realm)

    return Done(remote_id=entry.qbo_id, apply=apply)
