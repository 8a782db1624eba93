"""Installment plans' emails: the notice before an installment is charged (autopay's notice, with
the installment), and the installment due by link, declined and retried, or missed."""

from __future__ import annotations

from syncd.catalog.payloads_plans import PlanEmail
from syncd.context import Context
from syncd.domain.plans import InstallmentStatus, PlanStatus
from syncd.stages.autopay_mail import describe_method
from syncd.stages.card_requests import email_context
from syncd.stages.notify import send
from syncd.store import mirror
from syncd.store.effects import Claimed
from syncd.store.models import InstallmentPlan, PlanInstallment, SavedMethodRow
from syncd.worker import Done

# The installment states each topic is still true in (anything else: the email is moot).
_STILL = {
    "notice": (InstallmentStatus.SCHEDULED.value,),
    "due": (InstallmentStatus.LINK_SENT.value,),
    "retry": (InstallmentStatus.SCHEDULED.value,),
    "missed": (InstallmentStatus.MISSED.value,),
}


def send_plan_email(ctx: Context, effect: Claimed) -> Done:
    payload = PlanEmail.of(effect)
    realm = effect.company_id
    with ctx.db.transaction() as session:
        plan = session.get(InstallmentPlan, payload.plan_id)
        row = session.get(PlanInstallment, (payload.plan_id, payload.seq))
        if plan is None or row is None or plan.status != PlanStatus.ACTIVE.value:
            return Done(remote_id="skipped:plan-not-active")
        if row.status not in _STILL.get(payload.topic, ()):
            return Done(remote_id=f"skipped:{row.status}")
        customer = mirror.get_customer(session, realm, row.customer_id)
        invoice = mirror.get_invoice(session, realm, row.invoice_id)
        if customer is None or customer.deleted or invoice is None:
            return Done(remote_id="skipped:no-customer")
        context = email_context(ctx, session, realm)
        method = session.get(SavedMethodRow, row.payment_method_id) if row.payment_method_id else None
        context.update(
            customer_name=customer.display_name,
            invoice_number=invoice.doc_number or invoice.qbo_id,
            installment=f"{row.seq} of {plan.count}" if row.seq else "down payment",
            amount=row.amount,
            currency=row.currency,
            due_on=row.due_on,
            charge_on=row.charge_on,
            method=describe_method(method),
            pay_link=ctx.links.url(realm, row.invoice_id),
        )
        to = customer.email
    if payload.topic == "notice":
        context.update(skip_link=None, stop_link=None)
        return send(ctx, effect, "autopay_notice", to, context)
    context["topic"] = payload.topic
    return send(ctx, effect, "plan", to, context)
