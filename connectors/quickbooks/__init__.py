"""QuickBooks Online: the connector (python-quickbooks + intuit-oauth) and its simulator."""
