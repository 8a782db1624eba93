"""Stripe's search query language, the part syncd needs: ``field:'v'`` and ``metadata['k']:'v'``
clauses joined by AND or OR, with page-token paging."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from connectors.stripe.simulator.errors import invalid_param
from connectors.stripe.simulator.forms import opt_int, opt_str, req_str

JsonDict = dict[str, Any]

_CLAUSE = re.compile(r"""\s*(?:metadata\[['"]([^'"]+)['"]\]|(\w+))\s*:\s*['"]([^'"]*)['"]\s*""")

SEARCH_SPEC: dict[str, Any] = {"query": "str", "limit": "int", "page": "str"}


def search_result(
    items_newest_first: list[JsonDict],
    params: Mapping[str, Any],
    url: str,
    fields: frozenset[str],
    *,
    visible_before: int | None = None,
) -> JsonDict:
    """Stripe's search is eventually consistent: objects created after ``visible_before`` are
    not found yet (the simulator's ``search_lag``)."""
    query = req_str(params, "query")
    joiner = " OR " if " OR " in query else " AND "
    clauses: list[tuple[str | None, str | None, str]] = []
    for part in query.split(joiner):
        found = _CLAUSE.fullmatch(part)
        if found is None or (found.group(2) is not None and found.group(2) not in fields):
            raise invalid_param("query", f"Invalid search query: {query}")
        clauses.append((found.group(1), found.group(2), found.group(3)))

    def matches(obj: JsonDict) -> bool:
        results = [
            (obj["metadata"].get(meta_key) if meta_key else obj.get(str(field))) == value
            for meta_key, field, value in clauses
        ]
        return any(results) if joiner == " OR " else all(results)

    limit = opt_int(params, "limit") or 10
    page_token = opt_str(params, "page") or "0"
    page = int(page_token) if page_token.isdigit() else 0
    found_all = [
        obj
        for obj in items_newest_first
        if matches(obj) and (visible_before is None or int(obj["created"]) <= visible_before)
    ]
    chunk = found_all[page * limit : (page + 1) * limit]
    has_more = (page + 1) * limit < len(found_all)
    return {
        "object": "search_result",
        "data": chunk,
        "has_more": has_more,
        "next_page": str(page + 1) if has_more else None,
        "url": url,
    }
