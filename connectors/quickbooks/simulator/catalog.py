"""Seeded lists (accounts, items, payment methods, tax codes), CompanyInfo and Preferences."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from connectors.quickbooks.simulator import shapes
from connectors.quickbooks.simulator.store import RealmState
from connectors.quickbooks.simulator.wire import COMPANY_TZ, currency_ref, qbo_time

Entity = dict[str, Any]

# (name, unit price, description)
ITEMS = (
    ("Managed IT Support", Decimal("150.00"), "Monthly managed IT support"),
    ("Remote Support Hour", Decimal("95.00"), "Remote support, per hour"),
    ("On-site Visit", Decimal("125.00"), "On-site technician visit"),
    ("Network Monitoring", Decimal("49.99"), "24/7 network monitoring"),
    ("Backup Service", Decimal("29.50"), "Cloud backup, per device"),
    ("Hardware", Decimal("212.35"), "Hardware supplied"),
)


@dataclass
class Catalog:
    """Ids (and names) of the seeded lists that invoices and payments refer to."""

    accounts: dict[str, tuple[str, str]] = field(default_factory=dict)
    items: list[tuple[str, str]] = field(default_factory=list)
    tax_code_id: str = "2"


def seed_catalog(state: RealmState, home: str, foreign: tuple[str, ...]) -> Catalog:
    """Accounts, items, payment methods, tax codes and a vendor: the lists every company has."""
    catalog = Catalog()
    created = datetime(2023, 1, 1, 9, 0, tzinfo=COMPANY_TZ)

    def add(name: str, body: Entity) -> tuple[str, str]:
        entity_id = state.allocate_id()
        row = {**body, **shapes.header(entity_id, 0, created)}
        state.table(name).put(row, created)
        label = str(body.get("Name") or body.get("DisplayName"))
        return entity_id, label

    def account(key: str, name: str, acct_type: str, sub: str, currency: str) -> None:
        classification = {
            "Bank": "Asset",
            "Other Current Asset": "Asset",
            "Accounts Receivable": "Asset",
            "Income": "Revenue",
            "Expense": "Expense",
        }[acct_type]
        catalog.accounts[key] = add(
            "Account",
            {
                "Name": name,
                "SubAccount": False,
                "FullyQualifiedName": name,
                "Active": True,
                "Classification": classification,
                "AccountType": acct_type,
                "AccountSubType": sub,
                "CurrentBalance": 0,
                "CurrentBalanceWithSubAccounts": 0,
                "CurrencyRef": currency_ref(currency),
            },
        )

    account("checking", "Checking", "Bank", "Checking", home)
    account("savings", "Savings", "Bank", "Savings", home)
    account("undeposited", "Undeposited Funds", "Other Current Asset", "UndepositedFunds", home)
    account("ar", "Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable", home)
    for code in foreign:
        account(
            f"ar_{code}",
            f"Accounts Receivable (A/R) - {code}",
            "Accounts Receivable",
            "AccountsReceivable",
            code,
        )
    account("income", "Services", "Income", "ServiceFeeIncome", home)
    account("discount", "Discounts given", "Income", "DiscountsRefundsGiven", home)
    account("bank_charges", "Bank Charges", "Expense", "BankCharges", home)
    for name, price, description in ITEMS:
        catalog.items.append(
            add(
                "Item",
                {
                    "Name": name,
                    "Description": description,
                    "Active": True,
                    "FullyQualifiedName": name,
                    "Taxable": True,
                    "UnitPrice": price,
                    "Type": "Service",
                    "IncomeAccountRef": shapes.ref(*catalog.accounts["income"]),
                    "TrackQtyOnHand": False,
                },
            )
        )
    for name in ("Cash", "Check", "Visa", "MasterCard", "American Express"):
        key = name.lower().replace(" ", "_")
        catalog.accounts[key] = add(
            "PaymentMethod",
            {
                "Name": name,
                "Active": True,
                "Type": "NON_CREDIT_CARD" if name in ("Cash", "Check") else "CREDIT_CARD",
            },
        )
    catalog.tax_code_id = add(
        "TaxCode",
        {
            "Name": "California",
            "Description": "California sales tax",
            "Active": True,
            "Taxable": True,
            "TaxGroup": True,
        },
    )[0]
    add(
        "TaxCode",
        {
            "Name": "Out of scope",
            "Description": "Not taxable",
            "Active": True,
            "Taxable": False,
            "TaxGroup": False,
        },
    )
    add(
        "Vendor",
        {
            "Balance": 0,
            "Vendor1099": False,
            "CurrencyRef": currency_ref(home),
            "DisplayName": "Office Supplies Co",
            "PrintOnCheckName": "Office Supplies Co",
            "Active": True,
        },
    )
    return catalog


def company_info(realm_id: str, name: str, home: str, created: datetime) -> Entity:
    addr = {
        "Id": "1",
        "Line1": "2500 Garcia Ave",
        "City": "Mountain View",
        "Country": "US",
        "CountrySubDivisionCode": "CA",
        "PostalCode": "94043",
    }
    return {
        "CompanyName": name,
        "LegalName": name,
        "CompanyAddr": addr,
        "CustomerCommunicationAddr": dict(addr),
        "LegalAddr": dict(addr),
        "CustomerCommunicationEmailAddr": {"Address": "billing@northwind.example.com"},
        "PrimaryPhone": {"FreeFormNumber": "(650) 555-0100"},
        "CompanyStartDate": "2023-01-01",
        "FiscalYearStartMonth": "January",
        "Country": "US",
        "Email": {"Address": "billing@northwind.example.com"},
        "WebAddr": {},
        "SupportedLanguages": "en",
        "NameValue": [
            {"Name": "NeoEnabled", "Value": "true"},
            {"Name": "IndustryType", "Value": "Computer Systems Design and Related Services"},
            {"Name": "CompanyType", "Value": "LLC"},
            {"Name": "SubscriptionStatus", "Value": "PAID"},
            {"Name": "OfferingSku", "Value": "QuickBooks Online Plus"},
            {"Name": "PayrollFeature", "Value": "false"},
            {"Name": "ItemCategoriesFeature", "Value": "true"},
        ],
        "domain": "QBO",
        "sparse": False,
        "Id": "1",
        "SyncToken": "3",
        "MetaData": {"CreateTime": qbo_time(created), "LastUpdatedTime": qbo_time(created)},
    }


def preferences(home: str, currencies: tuple[str, ...], created: datetime) -> Entity:
    return {
        "AccountingInfoPrefs": {
            "TrackDepartments": False,
            "ClassTrackingPerTxn": False,
            "CustomerTerminology": "Customers",
        },
        "SalesFormsPrefs": {
            "AllowDiscount": True,
            "AllowDeposit": True,
            "DefaultTerms": {"value": "3"},
            "ETransactionEnabledStatus": "NotApplicable",
            "CustomTxnNumbers": False,
        },
        "CurrencyPrefs": {"MultiCurrencyEnabled": len(set(currencies)) > 1, "HomeCurrency": {"value": home}},
        "TaxPrefs": {"UsingSalesTax": True, "PartnerTaxEnabled": True},
        "OtherPrefs": {
            "NameValue": [
                {
                    "Name": "SalesFormsPrefs.DefaultCustomerMessage",
                    "Value": "Thank you for your business and have a great day!",
                }
            ]
        },
        "domain": "QBO",
        "sparse": False,
        "Id": "1",
        "SyncToken": "2",
        "MetaData": {"CreateTime": qbo_time(created), "LastUpdatedTime": qbo_time(created)},
    }
