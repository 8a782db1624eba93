"""Read-side responses: query results (QueryResponse) and change data capture (CDCResponse)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from connectors.quickbooks.simulator import query as ql
from connectors.quickbooks.simulator.recurring import NAME as RECURRING
from connectors.quickbooks.simulator.recurring import wrap
from connectors.quickbooks.simulator.store import RealmState, Table, canonical_entity
from connectors.quickbooks.simulator.wire import QboFault, parse_time, qbo_time, query_fault, validation

Entity = dict[str, Any]
CDC_MAX_PER_ENTITY = 1000
CDC_WINDOW = timedelta(days=30)


_ID = "id"
_UPDATED = "metadata.lastupdatedtime"


def _indexed(table: Table, where: list[ql.Condition]) -> list[str] | None:
    """Ids an indexed condition narrows the query to (Id =/IN, a LastUpdatedTime lower bound), or None."""
    for cond in where:
        path = cond.path.lower()
        if path == _ID and cond.op in ("=", "IN"):
            return sorted({value for value in cond.values if value in table}, key=_id_number)
        if path == _UPDATED and cond.op in (">", ">="):
            try:
                since = parse_time(cond.values[0])
            except ValueError as exc:
                raise query_fault(f"bad timestamp {cond.values[0]!r}") from exc
            return sorted((entity_id for _, entity_id in table.changed_since(since)), key=_id_number)
    return None


def _id_number(entity_id: str) -> int:
    return int(entity_id) if entity_id.isdigit() else 0


def _index_order(table: Table, order: list[tuple[str, bool]]) -> list[str] | None:
    """All ids already in the requested order, when one index gives it (Id, or LastUpdatedTime)."""
    if not order:
        return table.ids()
    if len(order) != 1:
        return None
    path, descending = order[0][0].lower(), order[0][1]
    if path == _ID:
        ids = table.ids()
    elif path == _UPDATED:
        ids = table.by_time()
    else:
        return None
    return ids[::-1] if descending else ids


def _table_query(table: Table, parsed: ql.Query) -> tuple[list[Entity], int]:
    """(the requested page, the total count): indexed plans build only the rows they return."""
    if parsed.count and not parsed.where:
        return [], len(table)
    ordered = _index_order(table, parsed.order)
    narrowed = _indexed(table, parsed.where)
    skip, take = parsed.start - 1, parsed.max_results
    if ordered is not None and not parsed.where:
        window = ordered[skip : skip + take]
        return [row for row in (table.get(entity_id) for entity_id in window) if row is not None], len(
            ordered
        )
    # A filter without an index to answer it (or an unindexed ORDERBY) reads every candidate row.
    candidates = narrowed if narrowed is not None else (ordered if ordered is not None else table.ids())
    rows: list[Entity] = []
    for entity_id in candidates:
        row = table.get(entity_id)
        if row is not None and all(ql.matches(row, cond) for cond in parsed.where):
            rows.append(row)
    if narrowed is not None and parsed.order and [p.lower() for p, _ in parsed.order] != [_ID]:
        _sort(rows, parsed.order)
    elif narrowed is not None and parsed.order and parsed.order[0][1]:
        rows.reverse()
    elif narrowed is None and ordered is None:
        _sort(rows, parsed.order)
    return rows[skip : skip + take], len(rows)


def _sort(rows: list[Entity], order: list[tuple[str, bool]]) -> None:
    for path, descending in reversed(order):
        rows.sort(key=lambda row, p=path: ql.sort_key(row, p), reverse=descending)  # type: ignore[misc]


def run_query(state: RealmState, text: str) -> dict[str, Any]:
    """The ``QueryResponse`` object for ``text`` (without the envelope's ``time``)."""
    parsed = ql.parse(text)
    lowered = parsed.entity.lower()
    if lowered in ("companyinfo", "preferences"):
        name = "CompanyInfo" if lowered == "companyinfo" else "Preferences"
        single = state.company_info if lowered == "companyinfo" else state.preferences
        rows = [row for row in [single] if all(ql.matches(row, cond) for cond in parsed.where)]
        if parsed.count:
            return {"totalCount": len(rows)}
        return _page(
            name, rows[parsed.start - 1 : parsed.start - 1 + parsed.max_results], parsed.start, len(rows)
        )
    canonical = canonical_entity(parsed.entity)
    if canonical is None:
        raise ql.unknown_entity(parsed.entity)
    page, total = _table_query(state.table(canonical), parsed)
    if parsed.count:
        return {"totalCount": total}
    if canonical == RECURRING:
        page = [wrap(row) for row in page]
    return _page(canonical, page, parsed.start, total)


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
