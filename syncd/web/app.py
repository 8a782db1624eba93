"""The one ASGI app: portal, webhooks, health, metrics, the staff console (and the demo mailbox),
behind security headers."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

import syncd.intake as real_intake
from syncd.context import Context
from syncd.ports.account import AccountBackend
from syncd.ports.mailbox import Mailbox
from syncd.ports.portal import PortalBackend
from syncd.stages.account import AccountService
from syncd.stages.autopay_account import AutopayService
from syncd.stages.card_requests import CardRequests
from syncd.stages.collect import PortalService
from syncd.stages.collection_desk import Desk
from syncd.stages.connect import finish_connect
from syncd.stages.recurring_links import TrialLinks
from syncd.web.account import account_routes
from syncd.web.autopay import autopay_routes
from syncd.web.card_request import card_request_routes
from syncd.web.collections import ROLES as COLLECT_ROLES
from syncd.web.collections import collect_routes
from syncd.web.connect import Finish, connect_routes
from syncd.web.csrf import Csrf
from syncd.web.health import health_routes
from syncd.web.mailbox import mailbox_routes
from syncd.web.metrics import WebMetrics, metrics_routes
from syncd.web.portal import portal_routes
from syncd.web.security import DEFAULT_CHECKOUT_ORIGIN, SecurityHeadersMiddleware
from syncd.web.staff import staff_gate, staff_routes
from syncd.web.staff.guard import READERS, staff_route
from syncd.web.staff_reports import ReportDesk, install, report_page
from syncd.web.templating import Templating
from syncd.web.texts import text_routes
from syncd.web.trial import trial_routes
from syncd.web.webhooks import MAX_BODY, Intake, webhook_routes


def checkout_origin(ctx: Context) -> str:
    """Where ``POST /pay`` redirects: Stripe Checkout, or the simulator's hosted page in the demo."""
    return ctx.settings.stripe.api_base or DEFAULT_CHECKOUT_ORIGIN


def create_app(
    ctx: Context,
    *,
    mailbox: Mailbox | None = None,
    extra_routes: Iterable[BaseRoute] = (),
    backend: PortalBackend | None = None,
    intake: Intake | None = None,
    max_body: int = MAX_BODY,
    connect: Finish | None = None,
    accounts: AccountBackend | None = None,
) -> Starlette:
    """Assemble the web tier. ``backend``, ``intake`` and ``connect`` default to the real stages;
    tests of this layer may pass fakes. Webhooks are signed and need no CSRF; every portal POST
    checks it."""
    if backend is None:
        backend = PortalService(ctx)
    if accounts is None:
        accounts = AccountService(ctx)
    if intake is None:
        intake = real_intake
    if connect is None:
        connect = functools.partial(finish_connect, ctx)
    templates = Templating(ctx.settings.template_dir)
    csrf = Csrf(ctx.box.purpose_key("csrf"))
    metrics = WebMetrics(ctx)
    gate = staff_gate(ctx, templates)
    collect_pages = [
        staff_route(
            page.path,
            page.endpoint,
            roles=COLLECT_ROLES[page.name],
            methods=(page.methods or set()) - {"HEAD"},
            name=page.name,  # the forms redirect back to the account page by its name
        )
        for page in collect_routes(Desk(ctx))
    ]
    routes: list[BaseRoute] = [
        *webhook_routes(ctx, intake, metrics, max_body=max_body),
        *text_routes(ctx, metrics),
        *health_routes(ctx),
        *metrics_routes(metrics, ctx.settings.metrics_token),
        *portal_routes(backend, templates, csrf),
        *card_request_routes(CardRequests(ctx), templates, csrf),
        *trial_routes(TrialLinks(ctx), templates, csrf),
        *account_routes(accounts, templates, csrf, checkout_origin(ctx)),
        *autopay_routes(AutopayService(ctx), templates, csrf),
        *connect_routes(connect),
        *staff_routes(
            ctx,
            templates,
            extra=[
                staff_route("/staff/c/{company_id}/reports/{name}", report_page, roles=READERS),
                *collect_pages,
            ],
        ),
    ]
    if mailbox is not None:
        routes.extend(mailbox_routes(mailbox, templates))
    routes.extend(extra_routes)
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(
                SecurityHeadersMiddleware,
                checkout_origin=checkout_origin(ctx),
                public_https=ctx.settings.https,
            )
        ],
    )
    app.state.metrics = metrics
    app.state.staff_gate = gate
    install(app, ReportDesk.of(ctx, templates))
    return app
