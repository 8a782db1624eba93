"""QBO as syncd's app (``syncd.ports.quickbooks.QboApp``): webhook deliveries and the sign-in code
exchange, which belong to no one company."""

from __future__ import annotations

from connectors.quickbooks.connect import exchange_code
from connectors.quickbooks.webhooks import parse_webhook, verify_webhook_signature
from syncd.errors import SignatureError
from syncd.ports.quickbooks import QboSettings, QboTokens, QboWebhookNotice


class QboApplication:
    """Implements ``QboApp`` with the app's settings (client id and secret, verifier token)."""

    def __init__(self, settings: QboSettings) -> None:
        self._settings = settings

    def parse_webhook(self, body: bytes, signature: str | None) -> list[QboWebhookNotice]:
        if not verify_webhook_signature(body, signature, self._settings.webhook_verifier_token):
            raise SignatureError("intuit-signature does not match")
        return parse_webhook(body)

    def exchange_code(self, code: str, realm_id: str) -> QboTokens:
        return exchange_code(self._settings, code, realm_id)
