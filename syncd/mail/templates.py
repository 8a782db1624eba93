"""Render customer and staff emails from Jinja2 templates a business may override."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import jinja2

from syncd.errors import ConfigError, PermanentError
from syncd.formatting import DEFAULT_LOCALE
from syncd.presentation import (
    DEFAULT_ACCENT,
    DEFAULT_PRIMARY,
    install_filters,
    rendering_in,
    safe_colour,
    safe_image_url,
    template_loader,
    text_colour_on,
)

PACKAGE_TEMPLATES = Path(__file__).parent / "templates"
KINDS = (
    "invoice_new",
    "reminder",
    "invoices",
    "receipt",
    "payment_processing",
    "payment_failed",
    "staff_alert",
    "card_request",
    "card_expiry",
    "sign_in",
    "recurring",
    "reminder_before",
    "reminder_due",
    "reminder_after",
    "final_notice",
    "collector_digest",
    "autopay_notice",
    "autopay_outcome",
    "plan",
    "authorization",
)
_LINE_BREAKS = re.compile(r"[\t\r\n\x0b\x0c\x85\u2028\u2029]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    """A subject (one line, safe as a header), a plain-text body and an HTML body."""

    subject: str
    text: str
    html: str


def single_line(value: str, limit: int = 200) -> str:
    """Collapse line breaks and control characters: a subject must never start a new header."""
    flat = _CONTROL.sub("", _LINE_BREAKS.sub(" ", value))
    return " ".join(flat.split())[:limit]


class EmailRenderer:
    """``render(kind, context)`` for the kinds in :data:`KINDS`.

    Templates are ``email/<kind>.subject.txt``, ``email/<kind>.txt`` and ``email/<kind>.html``,
    looked up first in ``override_dir`` then in the packaged defaults. HTML is autoescaped,
    text and subject are not (they are never parsed as markup). Context keys used by the
    defaults: ``company_name``, ``brand_color``, ``logo_url``, ``contact_email``,
    ``contact_phone``, ``customer_name``, ``invoice_number``, ``amount_due`` (Decimal),
    ``currency``, ``due_date`` (date or None), ``portal_url``; ``receipt`` adds ``amount_paid``
    and ``paid_at``; ``payment_processing`` and ``payment_failed`` add ``amount`` (and
    optionally ``reason``; ``payment_failed`` optionally ``card_only``); ``reminder`` may add
    ``days_overdue``; ``invoices`` (one customer's several invoices in one message) needs
    ``customer_name`` and ``invoices``, a list of ``invoice_number``, ``amount_due``,
    ``currency``, ``due_date``, ``portal_url``, ``new`` and ``days_overdue``; ``staff_alert``
    needs ``company_name``, ``title``, ``body`` and optionally ``link``; ``card_request`` needs
    ``customer_name``, ``reason`` (or None), ``expires_at`` and ``link``; ``card_expiry`` needs
    ``customer_name``, ``brand``, ``last4``, ``expires_on`` and ``link``; ``sign_in`` needs
    ``company_name``, ``sign_in_url`` and ``minutes``; ``recurring`` needs ``customer_name``,
    ``service_name``, ``amount``, ``currency``, ``topic`` (trial, contract_end, cancel, pause),
    ``first_date``, ``ends_on``, ``account_url`` and, for a trial, ``continue_link`` and
    ``cancel_link``; the reminder steps (``reminder_before``, ``reminder_due``, ``reminder_after``,
    ``final_notice``) need ``customer_name`` and ``invoices``
    (``invoice_number``, ``amount_due``, ``currency``, ``due_date``, ``portal_url``,
    ``days_overdue``); ``collector_digest`` needs ``company_name``, ``collector`` and ``accounts``
    (``name``, ``owed``, ``currency``, ``days_overdue``, ``promise``, ``on_hold``, ``url``);
    ``autopay_notice`` needs ``customer_name``, ``invoice_number``, ``amount``, ``currency``,
    ``charge_on``, ``method``, ``skip_link`` and ``stop_link``; ``autopay_outcome`` the same plus
    ``outcome`` (retry, failed, hard, action, over_cap), ``pay_link`` and, for hard, ``card_link``
    (an installment's notice adds ``installment``, with ``skip_link`` and ``stop_link`` None and a
    ``pay_link``); ``plan`` needs ``customer_name``, ``invoice_number``, ``installment``,
    ``amount``, ``currency``, ``due_on``, ``charge_on``, ``method``, ``topic`` (due, retry, missed)
    and ``pay_link``; ``authorization`` needs ``customer_name``, ``event`` (placed, captured,
    released), ``held``, ``amount`` (captured), ``currency``, ``method``, ``reason``,
    ``release_on``, ``invoice_number`` and ``account_url``.
    """

    def __init__(self, override_dir: Path | None) -> None:
        loader = template_loader(override_dir, PACKAGE_TEMPLATES)
        common = {
            "loader": loader,
            "undefined": jinja2.StrictUndefined,
            "keep_trailing_newline": True,
            "trim_blocks": True,
            "lstrip_blocks": True,
        }
        self._html = jinja2.Environment(autoescape=True, **common)  # type: ignore[arg-type]
        self._text = jinja2.Environment(autoescape=False, **common)  # type: ignore[arg-type]  # noqa: S701
        install_filters(self._html)
        install_filters(self._text)

    def render(self, kind: str, context: Mapping[str, object]) -> RenderedEmail:
        if kind not in KINDS:
            raise ValueError(f"unknown email kind {kind!r}; expected one of {KINDS}")
        ctx = self._context(context)
        try:
            with rendering_in(ctx["locale"]):
                subject = self._text.get_template(f"email/{kind}.subject.txt").render(ctx)
                text = self._text.get_template(f"email/{kind}.txt").render(ctx)
                html = self._html.get_template(f"email/{kind}.html").render(ctx)
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigError(
                f"templates.email.{kind}", f"{exc.filename}:{exc.lineno}: {exc.message}"
            ) from exc
        except jinja2.UndefinedError as exc:
            raise PermanentError(f"email {kind}: the template needs {exc.message}") from exc
        return RenderedEmail(subject=single_line(subject), text=text, html=html)

    @staticmethod
    def _context(context: Mapping[str, object]) -> dict[str, object]:
        """Fill the optional branding keys and sanitise those that end up in attributes."""
        ctx: dict[str, object] = {
            "logo_url": None,
            "contact_email": None,
            "contact_phone": None,
            "brand_color": DEFAULT_PRIMARY,
            "accent_color": DEFAULT_ACCENT,
            "locale": DEFAULT_LOCALE,
        }
        ctx.update(context)
        ctx["brand_color"] = safe_colour(str(ctx["brand_color"]), DEFAULT_PRIMARY)
        ctx["accent_color"] = safe_colour(str(ctx["accent_color"]), DEFAULT_ACCENT)
        ctx["brand_on_color"] = text_colour_on(str(ctx["brand_color"]))
        logo = ctx["logo_url"]
        ctx["logo_url"] = safe_image_url(logo) if isinstance(logo, str) else None
        return ctx
