"""Stripe-looking, unguessable object ids (``cs_test_…``, ``pi_…``, ``txn_…``) and their kinds."""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits

# Longest prefix first so ``cs_test_`` wins over anything shorter.
PREFIX_KIND: dict[str, str] = {
    "cs_test_": "checkout.session",
    "pi_": "payment_intent",
    "ch_": "charge",
    "py_": "charge",
    "txn_": "balance_transaction",
    "po_": "payout",
    "re_": "refund",
    "pyr_": "refund",
    "dp_": "dispute",
    "du_": "dispute",
    "evt_": "event",
    "cus_": "customer",
    "pm_": "payment_method",
    "seti_": "setup_intent",
    "mandate_": "mandate",
    "we_": "webhook_endpoint",
}

KIND_PREFIX: dict[str, str] = {
    "checkout.session": "cs_test_",
    "payment_intent": "pi_",
    "charge": "ch_",
    "balance_transaction": "txn_",
    "payout": "po_",
    "refund": "re_",
    "dispute": "dp_",
    "event": "evt_",
    "customer": "cus_",
    "payment_method": "pm_",
    "setup_intent": "seti_",
    "mandate": "mandate_",
    "webhook_endpoint": "we_",
    "request": "req_",
}


def random_token(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_id(kind: str, prefix: str | None = None) -> str:
    """A fresh id for an object of ``kind``; checkout sessions get Stripe's long form."""
    prefix = prefix or KIND_PREFIX[kind]
    length = 58 if kind == "checkout.session" else 24
    return prefix + random_token(length)


def kind_of(object_id: str) -> str | None:
    for prefix in sorted(PREFIX_KIND, key=len, reverse=True):
        if object_id.startswith(prefix):
            return PREFIX_KIND[prefix]
    return None
