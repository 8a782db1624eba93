"""A company's home in the console: connection health (QuickBooks, Stripe, email and, when the
company texts, Twilio) with the reason for a pause and the Resume button (what ``syncd resume``
does); collectors land on the invoice list instead."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from syncd import companies
from syncd.catalog.kinds import EffectKind
from syncd.context import Context
from syncd.domain.staff import StaffRole
from syncd.errors import Credential
from syncd.store import staff_audit as audit
from syncd.store import staff_views as views
from syncd.store.models import Company, Secret
from syncd.store.tokens import TOKENS
from syncd.web.staff.guard import ACTORS, EVERYONE, form_of, gate_of, principal_of, staff_route


@dataclass(frozen=True, slots=True)
class Connection:
    """One outside service as the company sees it: fine, or refused and what to do."""

    name: str
    ok: bool
    detail: str


def _texts(seen: views.TextsSeen, realm: str) -> Connection:
    """Twilio's line: a refused text does not pause the company (payments go on), so its reason
    is read from the last text that failed for good."""
    if seen.failing:
        error = (seen.last_error or "no reason recorded").splitlines()[0][:300]
        if "20003" in error or " 401 " in f" {error} ":
            fix = (
                "Twilio refused the account SID or auth token: correct [company.sms] account_sid and "
                "auth_token for this company, restart syncd, then Retry the texts under Needs a person"
            )
        else:
            fix = "see the failed texts under Needs a person, and Retry them once the cause is fixed"
        return Connection("Texts (Twilio)", False, f"{error} — {fix}")
    if seen.last_sent_at is not None:
        return Connection(
            "Texts (Twilio)", True, f"last text accepted {seen.last_sent_at:%Y-%m-%d %H:%M} UTC"
        )
    return Connection("Texts (Twilio)", True, f"configured, no text sent yet ({realm})")


def _connections(
    ctx: Context, row: Company, connected: bool, texts: views.TextsSeen | None = None
) -> list[Connection]:
    refused = Credential(row.pause_credential) if row.pause_credential else None
    fix = companies.fix_for(refused, row.realm_id) if refused else ""

    def line(name: str, mine: tuple[Credential, ...], fine: str) -> Connection:
        if refused in mine:
            return Connection(name, False, f"{companies.TITLES[refused]} — {fix}")
        return Connection(name, True, fine)

    pulled = f"last pull {row.last_pull_at:%Y-%m-%d %H:%M} UTC" if row.last_pull_at else "not pulled yet"
    qbo = line("QuickBooks", (Credential.QBO_CONNECTION, Credential.QBO_APP), pulled)
    if not connected:
        qbo = Connection(
            "QuickBooks", False, f"not connected — run `syncd connect quickbooks` ({row.realm_id})"
        )
    smtp = ctx.settings.smtp
    mail = f"{smtp.host}:{smtp.port}" if smtp.host else "not configured (emails wait)"
    found = [
        qbo,
        line("Stripe", (Credential.STRIPE_KEY,), "API key accepted"),
        line("Email (SMTP)", (Credential.SMTP,), mail),
    ]
    if texts is not None:
        found.append(_texts(texts, row.realm_id))
    return found


class _Company:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def home(self, request: Request) -> Response:
        gate = gate_of(request)
        realm = str(request.path_params["company_id"])
        if principal_of(request).role_in(realm) is StaffRole.COLLECTOR:
            return RedirectResponse(f"/staff/c/{realm}/invoices", status_code=303)

        def read() -> tuple[Company | None, list[Connection]]:
            with gate.db.transaction() as session:
                row = session.get(Company, realm)
                if row is None:
                    return None, []
                session.expunge(row)
                connected = session.get(Secret, (realm, TOKENS)) is not None
                texting = self.ctx.settings.company(realm).sms.enabled
                texts = views.texts_seen(session, realm, EffectKind.SMS_MESSAGE.value) if texting else None
                return row, _connections(self.ctx, row, connected, texts)

        row, connections = await run_in_threadpool(read)
        if row is None:
            return gate.message(request, 404, "Not found", "This company has not been synced yet.")
        return gate.page(request, "staff/company.html", {"company": row, "connections": connections})

    async def resume(self, request: Request) -> Response:
        gate = gate_of(request)
        realm = str(request.path_params["company_id"])
        if form_of(request).get("confirm") != "yes":
            return gate.page(request, "staff/confirm.html", _resume_question(realm))

        def act() -> bool:
            resumed = companies.resume(self.ctx, realm)
            with gate.db.transaction() as session:
                audit.record(
                    session, principal_of(request), "company.resume", now=gate.clock(), company_id=realm
                )
            return resumed

        resumed = await run_in_threadpool(act)
        text = "Resumed: its jobs run again at the next worker run." if resumed else "It was not paused."
        return gate.message(request, 200, "Resume", text)


def _resume_question(realm: str) -> dict[str, object]:
    return {
        "title": "Resume this company?",
        "text": "Only once the cause of the pause is fixed: what waited (payments, emails) goes out now.",
        "action": f"/staff/c/{realm}/resume",
        "fields": {},
        "back": f"/staff/c/{realm}",
    }


def company_routes(ctx: Context) -> list[BaseRoute]:
    c = _Company(ctx)
    return [
        staff_route("/staff/c/{company_id}", c.home, roles=EVERYONE, name="staff_company"),
        staff_route("/staff/c/{company_id}/resume", c.resume, roles=ACTORS, methods=["POST"]),
    ]
