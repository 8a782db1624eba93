"""The QBO query language subset: SELECT, FROM, WHERE, ORDERBY, STARTPOSITION, MAXRESULTS."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.quickbooks.simulator.wire import QboFault, parse_time, query_fault

MAX_RESULTS = 1000
DEFAULT_MAX_RESULTS = 100

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^'\\]|\\.|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op><=|>=|!=|<>|=|<|>)"
    r"|(?P<punct>[(),*])|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))"
)
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T")
_KEYWORDS = {
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "ORDERBY",
    "ORDER",
    "BY",
    "ASC",
    "DESC",
    "IN",
    "LIKE",
    "STARTPOSITION",
    "MAXRESULTS",
    "COUNT",
}


@dataclass(frozen=True, slots=True)
class Condition:
    path: str
    op: str  # = < > <= >= != IN LIKE
    values: tuple[str, ...]


@dataclass(slots=True)
class Query:
    entity: str
    count: bool = False
    where: list[Condition] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)  # (path, descending)
    start: int = 1
    max_results: int = DEFAULT_MAX_RESULTS


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip().rstrip(";")
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise query_fault(f"Encountered unexpected character at position {pos}: {text[pos : pos + 10]!r}")
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "str":
            value = value[1:-1].replace("\\'", "'").replace("''", "'")
        elif kind == "word" and value.upper() in _KEYWORDS:
            kind, value = "kw", value.upper()
        out.append((kind, value))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str]:
        return self.toks[self.i] if self.i < len(self.toks) else ("eof", "")

    def take(self, kind: str, value: str | None = None) -> str:
        tok = self.peek()
        if tok[0] != kind or (value is not None and tok[1] != value):
            want = value or kind
            raise query_fault(f'Encountered "{tok[1] or "<EOF>"}" where {want} was expected')
        self.i += 1
        return tok[1]

    def accept(self, kind: str, value: str) -> bool:
        if self.peek() == (kind, value):
            self.i += 1
            return True
        return False

    def integer(self) -> int:
        raw = self.take("num")
        if not raw.lstrip("-").isdigit():
            raise query_fault(f"{raw} is not an integer")
        return int(raw)

    def literal(self) -> str:
        kind, value = self.peek()
        if kind in ("str", "num") or (kind == "word" and value.lower() in ("true", "false")):
            self.i += 1
            return value
        raise query_fault(f'Encountered "{value or "<EOF>"}" where a value was expected')

    def parse(self) -> Query:
        self.take("kw", "SELECT")
        count = False
        if self.accept("kw", "COUNT"):
            self.take("punct", "(")
            self.take("punct", "*")
            self.take("punct", ")")
            count = True
        else:
            while True:
                kind, _ = self.peek()
                if (kind == "punct" and self.peek()[1] == "*") or kind == "word":
                    self.i += 1
                else:
                    raise query_fault("Encountered a bad select list")
                if not self.accept("punct", ","):
                    break
        self.take("kw", "FROM")
        query = Query(entity=self.take("word"), count=count)
        if self.accept("kw", "WHERE"):
            query.where.append(self.condition())
            while self.accept("kw", "AND"):
                query.where.append(self.condition())
        if self.accept("kw", "ORDERBY") or (self.accept("kw", "ORDER") and self.take("kw", "BY")):
            while True:
                path = self.take("word")
                descending = False
                if self.accept("kw", "DESC"):
                    descending = True
                else:
                    self.accept("kw", "ASC")
                query.order.append((path, descending))
                if not self.accept("punct", ","):
                    break
        if self.accept("kw", "STARTPOSITION"):
            query.start = self.integer()
        if self.accept("kw", "MAXRESULTS"):
            query.max_results = self.integer()
        if self.peek()[0] != "eof":
            raise query_fault(f'Encountered "{self.peek()[1]}" after the end of the query')
        if query.start < 1:
            raise query_fault("STARTPOSITION must be 1 or more")
        if not 0 <= query.max_results <= MAX_RESULTS:
            raise query_fault(f"MAXRESULTS must be between 0 and {MAX_RESULTS}, not {query.max_results}")
        return query

    def condition(self) -> Condition:
        path = self.take("word")
        kind, value = self.peek()
        if kind == "op":
            self.i += 1
            return Condition(path, "!=" if value == "<>" else value, (self.literal(),))
        if self.accept("kw", "IN"):
            self.take("punct", "(")
            values = [self.literal()]
            while self.accept("punct", ","):
                values.append(self.literal())
            self.take("punct", ")")
            return Condition(path, "IN", tuple(values))
        if self.accept("kw", "LIKE"):
            return Condition(path, "LIKE", (self.literal(),))
        raise query_fault(f'Encountered "{value or "<EOF>"}" where an operator was expected')


def parse(text: str) -> Query:
    if not text or not text.strip():
        raise query_fault("empty query")
    return _Parser(text).parse()


def lookup(row: dict[str, Any], path: str) -> Any:
    """The value at a dotted path (keys case-insensitive); a ``{value,name}`` ref yields ``value``."""
    node: Any = row
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        if part in node:
            node = node[part]
            continue
        lowered = part.lower()
        for key, value in node.items():
            if key.lower() == lowered:
                node = value
                break
        else:
            return None
    if isinstance(node, dict) and "value" in node:
        return node["value"]
    return node


def _coerce(actual: Any, literal: str) -> tuple[Any, Any] | None:
    if isinstance(actual, bool):
        return actual, literal.lower() == "true"
    if isinstance(actual, int | Decimal | float):
        try:
            return Decimal(str(actual)), Decimal(literal)
        except InvalidOperation:
            return None
    if isinstance(actual, str):
        if _DATETIME.match(actual) or _DATETIME.match(literal):
            try:
                left: datetime = parse_time(actual)
                right: datetime = parse_time(literal)
            except ValueError:
                return actual, literal
            return left, right
        return actual, literal
    return None


def _like(actual: Any, pattern: str) -> bool:
    if not isinstance(actual, str):
        return False
    regex = "".join(".*" if ch == "%" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, actual, flags=re.IGNORECASE | re.DOTALL) is not None


def matches(row: dict[str, Any], cond: Condition) -> bool:
    actual = lookup(row, cond.path)
    if actual is None:
        return False
    if cond.op == "LIKE":
        return _like(actual, cond.values[0])
    if cond.op == "IN":
        return any(matches(row, Condition(cond.path, "=", (value,))) for value in cond.values)
    pair = _coerce(actual, cond.values[0])
    if pair is None:
        return False
    left, right = pair
    try:
        if cond.op == "=":
            return bool(left == right)
        if cond.op == "!=":
            return bool(left != right)
        if cond.op == "<":
            return bool(left < right)
        if cond.op == ">":
            return bool(left > right)
        if cond.op == "<=":
            return bool(left <= right)
        if cond.op == ">=":
            return bool(left >= right)
    except TypeError as exc:
        raise query_fault(f"cannot compare {cond.path} with {cond.values[0]!r}") from exc
    return False


def sort_key(row: dict[str, Any], path: str) -> tuple[int, Any]:
    value = lookup(row, path)
    if value is None:
        return (2, "")
    if isinstance(value, bool):
        return (1, str(value))
    if isinstance(value, int | Decimal | float):
        return (0, Decimal(str(value)))
    if isinstance(value, str) and path.lower() == "id" and value.isdigit():
        return (0, Decimal(value))
    if isinstance(value, str) and _DATETIME.match(value):
        try:
            return (0, Decimal(str(parse_time(value).timestamp())))
        except ValueError:
            pass
    return (1, str(value))


def unknown_entity(name: str) -> QboFault:
    return query_fault(f"invalid context declaration: {name}")
