"""The payment portal pages: invoice, pay, return from Checkout, cancelled, PDF."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Generic, TypeVar
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from syncd.domain import InvoiceStatus
from syncd.errors import AuthError, PermanentError, TransientError
from syncd.formatting import format_money
from syncd.ports.portal import Branding, Consenting, InvoiceView, Outcome, PaymentState, PortalBackend
from syncd.presentation import (
    DEFAULT_ACCENT,
    DEFAULT_PRIMARY,
    currency_exponent,
    plain_amount,
    safe_colour,
    safe_image_url,
)
from syncd.web.csrf import FIELD, Csrf
from syncd.web.templating import Templating, asset_routes, theme_query

Backend = TypeVar("Backend")
_AMOUNT = re.compile(r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.([0-9]+))?|\.([0-9]+)")
_SYMBOLS = "$€£¥₹"
_NOT_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")
# When to come back while a company's connection is lost: a person has to fix it.
AUTH_RETRY_SECONDS = 1800
TRANSIENT_RETRY_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Notice:
    """A banner over the invoice: ``kind`` is info, success or warning (styling only)."""

    kind: str
    text: str


class AmountError(ValueError):
    """The typed amount is unusable; the message is shown to the payer as is."""


def parse_amount(raw: str, view: InvoiceView) -> Decimal:
    """The amount a payer typed, exactly, or AmountError saying what is wrong with it."""
    text = raw.strip().replace(" ", "").replace("\u00a0", "")
    if text[:3].upper() == view.currency.upper():
        text = text[3:]
    text = text.lstrip(_SYMBOLS)
    match = _AMOUNT.fullmatch(text)
    lo = format_money(min(view.min_partial, view.balance), view.currency, locale=view.branding.locale)
    hi = format_money(view.balance, view.currency, locale=view.branding.locale)
    if not text or match is None:
        raise AmountError(
            f"Enter an amount as a number, for example {plain_amount(view.balance, view.currency)}."
        )
    decimals = match.group(1) or match.group(2) or ""
    if len(decimals) > currency_exponent(view.currency):
        places = currency_exponent(view.currency)
        raise AmountError(
            f"{view.currency} amounts have {places} decimal place{'s' if places != 1 else ''} at most."
            if places
            else f"{view.currency} amounts have no decimal places."
        )
    try:
        amount = Decimal(text.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern only admits plain decimals
        raise AmountError("Enter an amount as a number.") from None
    if amount <= 0:
        raise AmountError("Enter an amount greater than zero.")
    if amount > view.balance:
        raise AmountError(f"The most you can pay is the balance of {hi}.")
    if amount < view.min_partial and amount != view.balance:
        raise AmountError(f"Enter at least {lo}, or the full balance of {hi}.")
    return amount


def page_state(view: InvoiceView) -> str:
    """Which variant of the invoice page to show; only ``payable`` has a Pay button (``contact``:
    payable, but by no method this payer may use online)."""
    if view.status in (InvoiceStatus.VOIDED, InvoiceStatus.DELETED):
        return "voided"
    if view.payment_state is PaymentState.REVIEW:
        return "review"
    if view.status is InvoiceStatus.PAID or view.payment_state is PaymentState.PAID or view.balance <= 0:
        return "paid"
    if view.payment_state is PaymentState.PROCESSING:
        return "processing"
    if view.status.payable:
        return "payable" if view.payment_methods else "contact"
    return "closed"


def brand_context(b: Branding | None) -> dict[str, object]:
    """A company's branding as every customer page's template reads it (safe URLs and colours)."""
    if b is None:
        b = Branding("", None, DEFAULT_PRIMARY, DEFAULT_ACCENT, None, None, None)
    phone = b.contact_phone.strip() if b.contact_phone else None
    return {
        "name": b.name,
        "logo_url": safe_image_url(b.logo_url),
        "contact_email": b.contact_email.strip() if b.contact_email else None,
        "contact_phone": phone,
        "phone_href": re.sub(r"[^0-9+]", "", phone) if phone else None,
        "message": b.message,
        "primary": safe_colour(b.primary_color, DEFAULT_PRIMARY),
        "accent": safe_colour(b.accent_color, DEFAULT_ACCENT),
    }


def branded(b: Branding) -> dict[str, object]:
    """The template fields of a branded page: ``brand``, its ``locale`` and ``theme`` stylesheet query."""
    brand = brand_context(b)
    return {
        "brand": brand,
        "locale": b.locale,
        "theme": theme_query(str(brand["primary"]), str(brand["accent"])),
    }


def consenting(request: Request) -> Consenting:
    """Who sent ``request``, as a consent given with it records them."""
    return Consenting(request.client.host if request.client else None, request.headers.get("user-agent"))


def to_stripe(url: str, what: str) -> Response:
    """A 303 to a page Stripe hosts; any other scheme is refused (``what`` names the URL in the error)."""
    if urlsplit(url).scheme not in ("https", "http"):
        raise PermanentError(f"{what} URL with an unexpected scheme")
    return RedirectResponse(url, status_code=303)


def pdf_response(doc_number: str, body: bytes) -> Response:
    """An invoice PDF as a download named for its number (nothing of the number escapes the name)."""
    name = _NOT_FILENAME.sub("-", doc_number).strip("-.")[:60] or "document"
    disposition = f'attachment; filename="invoice-{name}.pdf"'
    return Response(body, media_type="application/pdf", headers={"Content-Disposition": disposition})


class LinkPages(Generic[Backend]):
    """What the pages behind a payer's link share: their backend, templates and CSRF, and the 404."""

    def __init__(self, backend: Backend, templates: Templating, csrf: Csrf) -> None:
        self.backend = backend
        self.templates = templates
        self.csrf = csrf
        # One body for every unknown, revoked or malformed link so a 404 tells nothing apart.
        self.not_found_body = templates.render("portal/not_found.html", {"root": ""})

    def not_found(self) -> Response:
        return HTMLResponse(self.not_found_body, status_code=404)


class _Pages(LinkPages[PortalBackend]):
    """The portal's request handlers; every backend call runs in the thread pool."""

    async def _view(self, token: str) -> InvoiceView | None:
        return await run_in_threadpool(self.backend.invoice, token)

    def _common(self, request: Request, view: InvoiceView) -> dict[str, object]:
        return {"root": request.scope.get("root_path", ""), "view": view, **branded(view.branding)}

    def invoice_page(
        self,
        request: Request,
        view: InvoiceView,
        *,
        status_code: int = 200,
        notice: Notice | None = None,
        error: str | None = None,
        amount_value: str | None = None,
    ) -> Response:
        state = page_state(view)
        context = self._common(request, view)
        issued = self.csrf.issue(request, f"pay:{view.token}") if state == "payable" else None
        context.update(
            state=state,
            notice=notice,
            error=error,
            csrf_field=FIELD,
            csrf_token=issued.token if issued else "",
            amount_value=amount_value
            if amount_value is not None
            else plain_amount(view.plan_amount or view.balance, view.currency),
        )
        response = self.templates.response("portal/invoice.html", context, status_code=status_code)
        if issued is not None:
            self.csrf.apply(response, request, issued)
        return response

    def message_page(self, request: Request, status_code: int, title: str, text: str) -> Response:
        context: Mapping[str, object] = {
            "root": request.scope.get("root_path", ""),
            "title": title,
            "text": text,
            "back": f"{request.scope.get('root_path', '')}/i/{request.path_params['token']}",
        }
        return self.templates.response("portal/message.html", context, status_code=status_code)

    def unavailable(
        self, request: Request, exc: AuthError | TransientError, title: str, text: str
    ) -> Response:
        """503 with Retry-After: the connection is lost (a person fixes it) or a remote is down."""
        if isinstance(exc, AuthError):
            wait = AUTH_RETRY_SECONDS
        else:
            wait = round(exc.retry_after) if exc.retry_after else TRANSIENT_RETRY_SECONDS
        response = self.message_page(request, 503, title, text)
        response.headers["Retry-After"] = str(max(1, wait))
        return response

    async def invoice(self, request: Request) -> Response:
        view = await self._view(request.path_params["token"])
        if view is None:
            return self.not_found()
        return self.invoice_page(request, view)

    async def pay(self, request: Request) -> Response:
        token = request.path_params["token"]
        async with request.form(max_files=0, max_fields=10) as form:
            submitted = form.get(FIELD)
            raw_amount = form.get("amount")
            keep = form.get("keep") == "1"
        if not self.csrf.verify(request, f"pay:{token}", submitted):
            return self.message_page(
                request, 403, "This page has expired", "Please go back to the invoice and try again."
            )
        view = await self._view(token)
        if view is None:
            return self.not_found()
        amount: Decimal | None = None
        if view.allow_partial and isinstance(raw_amount, str):
            try:
                amount = parse_amount(raw_amount, view)
            except AmountError as exc:
                return self.invoice_page(
                    request, view, status_code=400, error=str(exc), amount_value=raw_amount
                )
        try:
            who = consenting(request) if keep else None
            url = await run_in_threadpool(self.backend.start_payment, token, amount, who)
        except PermanentError as exc:
            return self.invoice_page(request, view, status_code=400, error=str(exc))
        except AuthError as exc:
            return self.unavailable(
                request,
                exc,
                "Payments can't be taken right now",
                f"Nothing was charged. {view.branding.name} is fixing a problem with its payment "
                "connection; please try again later.",
            )
        except TransientError as exc:
            return self.unavailable(
                request,
                exc,
                "Payments are briefly unavailable",
                "Nothing was charged. Please try again in a few minutes.",
            )
        return to_stripe(url, f"invoice {view.doc_number}'s checkout")

    async def returned(self, request: Request) -> Response:
        token = request.path_params["token"]
        view = await self._view(token)
        if view is None:
            return self.not_found()
        session_id = request.query_params.get("session_id")
        if session_id is not None and (len(session_id) > 255 or not session_id.isprintable()):
            session_id = None
        outcome = await run_in_threadpool(self.backend.outcome, token, session_id)
        if outcome is Outcome.CANCELLED:
            return self.invoice_page(
                request, view, notice=Notice("info", "Payment cancelled. You have not been charged.")
            )
        if outcome is Outcome.FAILED:
            return self.invoice_page(
                request,
                view,
                notice=Notice(
                    "warning", "Your payment did not go through and nothing was taken. Please try again."
                ),
            )
        context = self._common(request, view)
        context["outcome"] = outcome.value
        return self.templates.response("portal/return.html", context)

    async def cancelled(self, request: Request) -> Response:
        view = await self._view(request.path_params["token"])
        if view is None:
            return self.not_found()
        return self.invoice_page(
            request, view, notice=Notice("info", "Payment cancelled. You have not been charged.")
        )

    async def pdf(self, request: Request) -> Response:
        token = request.path_params["token"]
        view = await self._view(token)
        if view is None:
            return self.not_found()
        try:
            body = await run_in_threadpool(self.backend.invoice_pdf, token)
        except (AuthError, TransientError) as exc:
            return self.unavailable(
                request,
                exc,
                "The invoice PDF can't be fetched right now",
                "Please try again later; the invoice itself is shown on its page.",
            )
        if body is None:
            return self.not_found()
        return pdf_response(view.doc_number, body)


def portal_routes(backend: PortalBackend, templates: Templating, csrf: Csrf) -> list[BaseRoute]:
    """The portal's routes plus its stylesheets; mount them at the site root."""
    pages = _Pages(backend, templates, csrf)
    return [
        Route("/i/{token}", pages.invoice, methods=["GET"], name="portal_invoice"),
        Route("/i/{token}/pay", pages.pay, methods=["POST"], name="portal_pay"),
        Route("/i/{token}/return", pages.returned, methods=["GET"], name="portal_return"),
        Route("/i/{token}/cancelled", pages.cancelled, methods=["GET"], name="portal_cancelled"),
        Route("/i/{token}/pdf", pages.pdf, methods=["GET"], name="portal_pdf"),
        *asset_routes(templates),
    ]
