"""The seams: Protocols and the plain types that cross them, between syncd and its connectors
(quickbooks, stripe, email and its address rule, the demo's mailbox) and between the stages and
the web (portal, account, card requests). They import only syncd.domain and syncd.errors."""
