"""``syncd audit``: proof, for a period, that the books agree with Stripe to the cent."""

from syncd.audit.compare import run_audit
from syncd.audit.report import AuditReport, CurrencyTotals, Difference

__all__ = ["AuditReport", "CurrencyTotals", "Difference", "run_audit"]
