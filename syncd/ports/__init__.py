"""The seams: Protocols and the plain types that cross them, between syncd and its connectors
(quickbooks, stripe, email) and between the stages and the web (portal, account, card requests)."""
