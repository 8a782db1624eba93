"""Read-side responses: query results (QueryResponse) and change data capture (CDCResponse)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from connectors.quickbooks.simulator import query as ql
from connectors.quickbooks.simulator.store import RealmState, Table, canonical_entity
from connectors.quickbooks.simulator.wire import QboFault, parse_time, qbo_time, query_fault, validation

Entity = dict[str, Any]
CDC_MAX_PER_ENTITY = 1000
CDC_WINDOW = timedelta(days=30)


def _candidates(table: Table, where: list[ql.Condition]) -> list[str]:
    """Ids worth materialising: a LastUpdatedTime lower bound is answered from the mtime index."""
    for cond in where:
        if cond.path.lower() == "metadata.lastupdatedtime" and cond.op in (">", ">="):
            try:
                since = parse_time(cond.values[0])
            except ValueError as exc:
                raise query_fault(f"bad timestamp {cond.values[0]!r}") from exc
            hits = {entity_id for _, entity_id in table.changed_since(since)}
            return [entity_id for entity_id in table.ids() if entity_id in hits]
    return table.ids()


def run_query(state: RealmState, text: str) -> dict[str, Any]:
    """The ``QueryResponse`` object for ``text`` (without the envelope's ``time``)."""
    parsed = ql.parse(text)
    lowered = parsed.entity.lower()
    rows: list[Entity]
    if lowered == "companyinfo":
        name, rows = "CompanyInfo", [state.company_info]
        rows = [row for row in rows if all(ql.matches(row, cond) for cond in parsed.where)]
    elif lowered == "preferences":
        name, rows = "Preferences", [state.preferences]
        rows = [row for row in rows if all(ql.matches(row, cond) for cond in parsed.where)]
    else:
        canonical = canonical_entity(parsed.entity)
        if canonical is None:
            raise ql.unknown_entity(parsed.entity)
        name = canonical
        table = state.table(name)
        if not parsed.where and not parsed.order and not parsed.count:
            # Paging through a big table without filters needs only the requested slice.
            ids = table.ids()
            total = len(ids)
            window = ids[parsed.start - 1 : parsed.start - 1 + parsed.max_results]
            page = [row for row in (table.get(entity_id) for entity_id in window) if row is not None]
            return _page(name, page, parsed.start, total)
        rows = []
        for entity_id in _candidates(table, parsed.where):
            row = table.get(entity_id)
            if row is not None and all(ql.matches(row, cond) for cond in parsed.where):
                rows.append(row)
    if parsed.count:
        return {"totalCount": len(rows)}
    for path, descending in reversed(parsed.order):
        rows.sort(key=lambda row, p=path: ql.sort_key(row, p), reverse=descending)  # type: ignore[misc]
    total = len(rows)
    page = rows[parsed.start - 1 : parsed.start - 1 + parsed.max_results]
    return _page(name, page, parsed.start, total)


def _page(name: str, page: list[Entity], start: int, total: int) -> dict[str, Any]:
    if not page:
        return {}
    return {name: page, "startPosition": start, "maxResults": len(page), "totalCount": total}


def change_data_capture(
    state: RealmState, entities: str, changed_since: str, now: datetime
) -> dict[str, Any]:
    """The ``CDCResponse`` list for a CDC call; deleted entities come back with ``status: Deleted``."""
    names: list[str] = []
    for raw in (part.strip() for part in entities.split(",")):
        if not raw:
            continue
        canonical = canonical_entity(raw)
        if canonical is None:
            raise validation(f"Unsupported entity in CDC: {raw}", code="4000", message="Invalid request")
        names.append(canonical)
    if not names:
        raise validation("entities is required", code="2020")
    try:
        since = parse_time(changed_since)
    except ValueError as exc:
        raise validation(
            f"changedSince is not a timestamp: {changed_since!r}", code="2040", message="Invalid date format"
        ) from exc
    if since < now - CDC_WINDOW:
        raise QboFault(400, "2040", "Invalid date format", "changedSince must be within the last 30 days")
    responses: list[dict[str, Any]] = []
    for name in names:
        table = state.table(name)
        found: list[tuple[float, Entity]] = []
        for mtime, entity_id in table.changed_since(since):
            row = table.get(entity_id)
            if row is not None:
                found.append((mtime, row))
        floor = since.timestamp()
        for tomb in table.tombstones.values():
            if tomb.deleted_at.timestamp() >= floor:
                found.append(
                    (
                        tomb.deleted_at.timestamp(),
                        {**tomb.body, "MetaData": {"LastUpdatedTime": qbo_time(tomb.deleted_at)}},
                    )
                )
        found.sort(key=lambda pair: pair[0])
        rows = [row for _, row in found[:CDC_MAX_PER_ENTITY]]
        if rows:
            responses.append({name: rows, "startPosition": 1, "maxResults": len(rows)})
        else:
            responses.append({})
    return {"CDCResponse": [{"QueryResponse": responses}]}
