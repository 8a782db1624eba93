"""A batch answer read one item at a time (the first pull's memory)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.quickbooks.sdk import answer_items
from syncd.errors import PermanentError


def test_items_come_one_by_one_with_exact_amounts() -> None:
    body = (
        '{"time": "2026-01-01T00:00:00.000-08:00", "BatchItemResponse" : [ '
        '{"bId": "b", "QueryResponse": {"Invoice": [{"Id": "2", "Balance": 10.10}]}} ,'
        '{"bId": "a", "QueryResponse": {}}]}'
    )
    items = list(answer_items(body))
    assert [i["bId"] for i in items] == ["b", "a"]
    assert items[0]["QueryResponse"]["Invoice"][0]["Balance"] == Decimal("10.10")


def test_an_empty_batch_answer_has_no_items() -> None:
    assert list(answer_items('{"BatchItemResponse": []}')) == []


def test_a_fault_instead_of_items_is_permanent() -> None:
    with pytest.raises(PermanentError):
        list(answer_items('{"Fault": {"Error": [{"code": "2020"}]}, "time": "x"}'))


def test_a_truncated_answer_is_refused() -> None:
    with pytest.raises(PermanentError):
        list(answer_items('{"BatchItemResponse": [{"bId": "a"} {"bId": "b"}]}'))
