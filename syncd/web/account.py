"""The customer account pages: sign in by email link, invoice link or passkey; owed, pay several,
history and receipts; contact details; sign out (everywhere).

Every POST checks CSRF. The session cookie is ``__Host-`` over https (plain name on the http demo),
HttpOnly, SameSite=Lax; a sign-in always mints a new session id and ends the one the browser had,
so a planted id never becomes signed in. Passkey pages run one same-origin script, so their CSP
allows ``script-src 'self'``; every other page keeps the portal's ``script-src 'none'``.
"""

from __future__ import annotations

import secrets

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from syncd.domain.recurring import RecurAction
from syncd.errors import PermanentError, ThrottledError, TransientError
from syncd.ports.account import AccountBackend, Change
from syncd.ports.account_text import TEXT
from syncd.web.account_pages import EMAIL, PHONE, Fields, cookie_name, recur_action, request_id_of
from syncd.web.account_sign_in import SignInPages
from syncd.web.card_request import retry_after
from syncd.web.csrf import Csrf
from syncd.web.portal import consenting, pdf_response, to_stripe
from syncd.web.templating import Templating


class _Pages(SignInPages):
    """The signed-in account: owed, pay several, methods, receipts, contact, recurring services."""

    # -- the account --------------------------------------------------------------------------

    async def account(self, request: Request, sid: str) -> Response:
        view = await run_in_threadpool(self.backend.account, sid)
        if view is None:
            choices = await run_in_threadpool(self.backend.choices, sid)
            if not choices:
                return self.to_sign_in(request)
            return self.page(request, "account/choose.html", choices=choices)
        done = request.query_params.get("done", "")
        notice = TEXT.get(f"notice_{done}")
        notice_kind = "warning" if done == "updating" else "success"
        # Names each form of this page view, so a form sent twice is one change, a new view another.
        nonce = secrets.token_urlsafe(16)
        return self.page(
            request,
            "account/account.html",
            brand=view.branding,
            view=view,
            notice=notice,
            notice_kind=notice_kind,
            request_id=nonce,
        )

    async def recurring_confirm(self, request: Request, sid: str) -> Response:
        """What pausing or cancelling one recurring service does; its button POSTs the choice."""
        action = recur_action(request.path_params["action"])
        view = await run_in_threadpool(self.backend.account, sid)
        if view is None:
            return self.to_sign_in(request)
        item = next((i for i in view.recurring if i.template_id == request.path_params["template"]), None)
        if (
            action is None
            or item is None
            or not (item.can_cancel if action is RecurAction.CANCEL else item.can_pause)
        ):
            return self.not_found(request)
        return self.page(
            request, "account/recurring_confirm.html", brand=view.branding, item=item, action=action.value
        )

    async def recurring_act(self, request: Request, fields: Fields, sid: str) -> Response:
        action = recur_action(request.path_params["action"])
        template = request.path_params["template"]
        if action is None or not await run_in_threadpool(
            self.backend.recurring_action, sid, template, action
        ):
            return self.not_found(request)
        root = request.scope.get("root_path", "")
        return RedirectResponse(f"{root}/account?done=recurring_{action.value}", status_code=303)

    async def choose(self, request: Request) -> Response:
        fields = await self.form(request)
        sid = self.sid(request)
        if fields is None:
            return self.expired(request)
        company, _, customer = str(fields.get("account", "")).partition("/")
        if sid is None or not await run_in_threadpool(self.backend.choose, sid, company, customer):
            return self.to_sign_in(request)
        return RedirectResponse(f"{request.scope.get('root_path', '')}/account", status_code=303)

    async def pay(self, request: Request, fields: Fields, sid: str) -> Response:
        chosen = fields["invoice"]
        assert isinstance(chosen, list)
        try:
            keep = consenting(request) if fields.get("keep") == "1" else None
            url = await run_in_threadpool(self.backend.pay, sid, chosen[:500], keep)
        except PermanentError as exc:
            return self.message(request, 400, TEXT["pay_refused_title"], str(exc))
        except TransientError:
            return self.message(request, 503, TEXT["pay_unavailable_title"], TEXT["pay_unavailable_text"])
        return to_stripe(url, "checkout")

    # -- payment methods ----------------------------------------------------------------------

    async def method_change(self, request: Request, fields: Fields, sid: str) -> Response:
        method_id = str(fields.get("method", ""))[:64]
        remove = request.url.path.endswith("/remove")
        try:
            if remove:
                change = await run_in_threadpool(self.backend.remove_method, sid, method_id)
            else:
                change = await run_in_threadpool(
                    self.backend.make_default, sid, method_id, request_id_of(fields)
                )
        except PermanentError as exc:
            return self.message(request, 400, TEXT["method_refused_title"], str(exc))
        if change is Change.NOT_FOUND:
            return self.not_found(request)
        if change is Change.FAILED:
            return self.message(request, 502, TEXT["method_refused_title"], TEXT["method_failed_text"])
        # Told as it is: "removed" only once Stripe has it; while Stripe is away, "being updated".
        done = ("removed" if remove else "default") if change is Change.DONE else "updating"
        return RedirectResponse(f"{request.scope.get('root_path', '')}/account?done={done}", status_code=303)

    async def add_method(self, request: Request, fields: Fields, sid: str) -> Response:
        try:
            who = consenting(request)
            url = await run_in_threadpool(
                self.backend.add_method, sid, request_id_of(fields), who.ip, who.user_agent
            )
        except PermanentError as exc:
            return self.message(request, 400, TEXT["method_refused_title"], str(exc))
        except ThrottledError as exc:
            return retry_after(self.message(request, 429, TEXT["method_refused_title"], str(exc)), exc)
        except TransientError:
            return self.message(request, 503, TEXT["pay_unavailable_title"], TEXT["pay_unavailable_text"])
        if url is None:
            return self.to_sign_in(request)
        return to_stripe(url, "setup checkout")

    async def receipt(self, request: Request, sid: str) -> Response:
        receipt = await run_in_threadpool(self.backend.receipt, sid, request.path_params["ref"])
        if receipt is None:
            return self.not_found(request)
        return self.page(request, "account/receipt.html", brand=receipt.branding, receipt=receipt)

    async def invoice_pdf(self, request: Request, sid: str) -> Response:
        document = await run_in_threadpool(self.backend.invoice_pdf, sid, request.path_params["invoice_id"])
        if document is None:
            return self.not_found(request)
        return pdf_response(document.doc_number, document.body)

    async def contact(self, request: Request, fields: Fields, sid: str) -> Response:
        email = str(fields.get("email", "")).strip() or None
        phone = str(fields.get("phone", "")).strip() or None
        if (email and not EMAIL.fullmatch(email)) or (phone and not PHONE.fullmatch(phone)):
            return self.message(request, 400, TEXT["contact_invalid_title"], TEXT["contact_invalid_text"])
        texts = consenting(request) if fields.get("texts") == "on" else None
        try:
            updated = await run_in_threadpool(self.backend.update_contact, sid, email, phone, texts)
        except PermanentError as exc:
            return self.message(request, 400, TEXT["contact_invalid_title"], str(exc))
        if not updated:
            return self.to_sign_in(request)
        return RedirectResponse(f"{request.scope.get('root_path', '')}/account?done=contact", status_code=303)

    async def sign_out(self, request: Request) -> Response:
        fields = await self.form(request)
        if fields is None:
            return self.expired(request)
        sid = self.sid(request)
        if sid is not None:
            await run_in_threadpool(self.backend.sign_out, sid, fields.get("everywhere") == "1")
        response = self.message(request, 200, TEXT["signed_out_title"], TEXT["signed_out_text"])
        response.delete_cookie(cookie_name(request, "account"), path="/")
        return response


def account_routes(
    backend: AccountBackend, templates: Templating, csrf: Csrf, checkout_origin: str
) -> list[BaseRoute]:
    """The account's routes; mount them at the site root next to the portal."""
    p = _Pages(backend, templates, csrf, checkout_origin)
    return [
        Route("/account", p.with_session(p.account), methods=["GET"], name="account"),
        Route("/account/sign-in", p.sign_in_form, methods=["GET"], name="account_sign_in"),
        Route("/account/sign-in", p.request_link, methods=["POST"], name="account_request_link"),
        Route("/account/link/{token}", p.link_page, methods=["GET"], name="account_link"),
        Route("/account/link/{token}", p.use_link, methods=["POST"], name="account_use_link"),
        Route("/i/{token}/account", p.from_invoice, methods=["GET"], name="account_from_invoice"),
        Route("/account/choose", p.choose, methods=["POST"], name="account_choose"),
        Route("/account/pay", p.signed(p.pay), methods=["POST"], name="account_pay"),
        Route("/account/methods/add", p.signed(p.add_method), methods=["POST"], name="account_add_method"),
        Route(
            "/account/methods/default",
            p.signed(p.method_change),
            methods=["POST"],
            name="account_method_default",
        ),
        Route(
            "/account/methods/remove",
            p.signed(p.method_change),
            methods=["POST"],
            name="account_method_remove",
        ),
        Route(
            "/account/receipts/{ref:path}", p.with_session(p.receipt), methods=["GET"], name="account_receipt"
        ),
        Route(
            "/account/invoices/{invoice_id}/pdf",
            p.with_session(p.invoice_pdf),
            methods=["GET"],
            name="account_pdf",
        ),
        Route("/account/contact", p.signed(p.contact), methods=["POST"], name="account_contact"),
        Route(
            "/account/recurring/{template}/{action}",
            p.with_session(p.recurring_confirm),
            methods=["GET"],
            name="account_recurring",
        ),
        Route(
            "/account/recurring/{template}/{action}",
            p.signed(p.recurring_act),
            methods=["POST"],
            name="account_recurring_act",
        ),
        Route("/account/sign-out", p.sign_out, methods=["POST"], name="account_sign_out"),
        Route(
            "/account/passkeys/{purpose}/options", p.passkey_options, methods=["POST"], name="passkey_options"
        ),
        Route("/account/passkeys/register", p.passkey_register, methods=["POST"], name="passkey_register"),
        Route("/account/passkeys/sign-in", p.passkey_sign_in, methods=["POST"], name="passkey_sign_in"),
        Route(
            "/account/passkeys/remove", p.signed(p.passkey_remove), methods=["POST"], name="passkey_remove"
        ),
        Route("/account/help", p.help, methods=["GET"], name="account_help"),
        Route("/account/passkeys", p.passkeys_page, methods=["GET"], name="account_passkeys"),
        Route("/account/switch", p.switch, methods=["GET"], name="account_switch"),
        Route("/assets/account.js", p.script, methods=["GET"], name="account_js"),
    ]
