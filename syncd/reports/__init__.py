"""Staff reports over the store: AR aging, collections, DSO, cash-flow forecast, payment health and
audit results, each a frozen value with exact Decimal figures, a table (CSV) and JSON."""
