"""syncd: QuickBooks invoices in, Stripe payments out, the books reconciled exactly once."""

__version__ = "0.1.0"
