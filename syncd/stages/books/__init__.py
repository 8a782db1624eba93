"""Books: every Stripe money movement besides the payment itself, into QBO through the clearing
account (DESIGN §4) — fees, refunds, disputes, ACH returns, payouts — one effect per entry."""

from syncd.stages.books import disputes, fees, payouts, refund_failures, refunds, returns
from syncd.stages.books.dispatch import KINDS, apply_event
from syncd.stages.books.fees import record_fee

__all__ = [
    "KINDS",
    "apply_event",
    "disputes",
    "fees",
    "payouts",
    "record_fee",
    "refund_failures",
    "refunds",
    "returns",
]
