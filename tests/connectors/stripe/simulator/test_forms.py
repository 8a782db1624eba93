from __future__ import annotations

import pytest

from connectors.stripe.simulator.errors import ApiError
from connectors.stripe.simulator.forms import merge_metadata, parse_pairs, validate


def test_bracket_keys_nest_into_dicts_and_lists() -> None:
    parsed = parse_pairs(
        [
            ("mode", "payment"),
            ("line_items[0][price_data][currency]", "usd"),
            ("line_items[0][price_data][unit_amount]", "1000"),
            ("line_items[1][quantity]", "2"),
            ("line_items[0][quantity]", "1"),
            ("metadata[invoice_ids]", "1,2"),
            ("expand[]", "payment_intent"),
            ("expand[]", "customer"),
            ("allowed_payment_method_types[0]", "card"),
        ]
    )
    assert parsed == {
        "mode": "payment",
        "line_items": [
            {"price_data": {"currency": "usd", "unit_amount": "1000"}, "quantity": "1"},
            {"quantity": "2"},
        ],
        "metadata": {"invoice_ids": "1,2"},
        "expand": ["payment_intent", "customer"],
        "allowed_payment_method_types": ["card"],
    }


def test_metadata_keys_that_look_like_numbers_stay_a_map() -> None:
    assert parse_pairs([("metadata[0]", "a"), ("metadata[1]", "b")]) == {"metadata": {"0": "a", "1": "b"}}


def test_unknown_nested_param_is_named_in_the_error() -> None:
    spec = {"line_items": [{"price_data": {"currency": "str"}, "quantity": "int"}]}
    with pytest.raises(ApiError) as caught:
        validate(parse_pairs([("line_items[0][price_data][colour]", "red")]), spec)
    assert caught.value.code == "parameter_unknown"
    assert caught.value.param == "line_items[0][price_data][colour]"


def test_bad_integer_is_rejected() -> None:
    with pytest.raises(ApiError) as caught:
        validate({"amount": "12.5"}, {"amount": "int"})
    assert caught.value.code == "parameter_invalid_integer"


def test_metadata_merge_follows_stripe_unset_rules() -> None:
    assert merge_metadata({"a": "1", "b": "2"}, {"a": "", "c": "3"}) == {"b": "2", "c": "3"}
    assert merge_metadata({"a": "1"}, "") == {}
    assert merge_metadata({"a": "1"}, None) == {"a": "1"}
