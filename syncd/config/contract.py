"""The connector types configuration produces or leans on: its only imports from ``connectors``."""

# Repoint these at merge if the contract types move; nothing else in syncd.config imports connectors.
from connectors.email.address import recipient
from connectors.email.protocol import SmtpSettings
from connectors.quickbooks.protocol import AccountNames, QboSettings
from connectors.stripe.protocol import StripeSettings

__all__ = ["AccountNames", "QboSettings", "SmtpSettings", "StripeSettings", "recipient"]
