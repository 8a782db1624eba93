"""The commented configuration ``syncd init`` writes (keys exactly as ``syncd.config`` parses them)."""

from __future__ import annotations

TEMPLATE = """\
# syncd configuration. Every setting is optional unless marked REQUIRED.
# Secrets may be written inline, or as "env:NAME" (environment variable), "file:/path"
# or "credential:NAME" (a systemd credential, see systemd/README.md).

# REQUIRED. Encrypts QBO tokens at rest and keys portal links and forms. Keep it secret and
# keep it: a new key makes stored tokens unreadable and every emailed payment link invalid.
secret_key = "{secret_key}"

# debug, info, warning or error.
log_level = "info"
# console, or json (one object per line) for log shippers.
# log_format = "console"

[database]
# SQLite (embedded, the default) or PostgreSQL: "postgresql://user@host/dbname".
url = "{database_url}"

[web]
# The address customers reach the payment pages on (links in emails point here).
public_url = "http://127.0.0.1:8000"
host = "127.0.0.1"
port = 8000
# A directory whose templates override the packaged portal/email templates.
# template_dir = "templates"
# Reverse proxies whose X-Forwarded-For/-Proto are believed (addresses or networks, or "*").
# trusted_proxies = ["127.0.0.1", "::1"]
# Bearer token Prometheus sends for /metrics (at least 16 characters); unset: no /metrics.
# metrics_token = ""

[quickbooks]
# production, sandbox, or a discovery-document URL (the simulator's).
environment = "production"
# Only needed when environment is a discovery URL: the ".../v3" API base.
# api_base_url = "https://quickbooks.api.intuit.com/v3"
client_id = ""
client_secret = ""
# redirect_uri = "http://localhost:8000/connect/quickbooks/callback"
# From the Intuit developer portal's Webhooks page.
webhook_verifier_token = ""
# minorversion = 75
# timeout_seconds = 30.0

[stripe]
# A secret (sk_...) or restricted (rk_...) key.
api_key = ""
# The signing secret of the webhook endpoint <public_url>/webhooks/stripe (whsec_...).
# Leave it empty: `syncd connect stripe` registers the endpoint and stores its secret encrypted.
webhook_secret = ""
# api_base = "http://127.0.0.1:12111"   # only to talk to the Stripe simulator
# webhook_tolerance_seconds = 300

[smtp]
host = "localhost"
# security: starttls (port 587), tls (implicit, port 465) or none (local relays only).
security = "starttls"
# port = 587
# username = "billing@example.com"
# password = "credential:smtp_password"
from = "billing@example.com"
# timeout_seconds = 20.0

[scheduler]
# How often each company is pulled from QuickBooks (webhooks also trigger a pull at once).
pull_seconds = 300
# How often due effects (QBO writes, emails) and stored Stripe events are processed.
worker_seconds = 2
inbox_seconds = 2
# How often Stripe is asked for events a webhook may have missed.
backfill_seconds = 300
# How often QBO tokens are checked and refreshed before they expire.
refresh_seconds = 600

# One [[company]] table per connected QuickBooks company (`syncd connect quickbooks`).
# [[company]]
# realm_id = "9130350000000001"           # REQUIRED: the QBO company id
# payment_methods = ["card", "us_bank_account"]
# allow_partial = false                   # let customers pay part of an invoice
# min_partial = "1.00"
# save_methods = false                    # offer "keep this card for next time" (opt-in)
# link_writeback = "memo"                 # memo, off or custom_field:<definition id>
# notify_new_invoices = true
# first_sync = "link_only"                # the open invoices found at the first sync: link_only,
#                                         # email_open or email_not_overdue (`syncd preview` first)
# reminder_days = [3, 10]                 # days after the due date
# sending_hour = 9                        # local hour to send reminders
# timezone = "America/New_York"           # default: the company's QBO timezone
# staff_email = "office@example.com"
# bank_debit_strikes = 2                  # failed/returned bank debits before card only (0: never)
# refund_reopens_invoice = false          # true: a refund comes off the Payment, the invoice reopens
#
# [company.accounts]
# clearing = "Stripe Clearing"
# fees = "Stripe Fees"
# bank = "Checking"
# vendor = "Stripe"
# refund_income = "Sales"
# rounding = "Stripe Rounding"            # sub-cent remainders of KWD, BHD, JOD, OMR, TND
# banks = {{ JPY = "Yen Checking" }}      # payout bank per foreign currency (held without one)
#
# [company.branding]
# name = "Northwind IT Services"
# logo_url = "https://example.com/logo.png"
# primary_color = "#1f4e79"
# accent_color = "#2e8540"
# contact_email = "billing@example.com"
# contact_phone = "+1 555 0100"
# message = "Thank you for your business."
"""


def render(secret_key: str, database_url: str = "sqlite:///syncd.db") -> str:
    return TEMPLATE.format(secret_key=secret_key, database_url=database_url)
