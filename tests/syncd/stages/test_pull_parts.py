"""A first pull saves its pages in parts of ``SAVE_ROWS`` rows, one transaction each, so a
payment's short transactions on SQLite never wait behind a whole page; every row is mirrored once
and the cursor moves only after the last part."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loop_harness import running_loop
from sqlalchemy import event, func, select

from syncd.stages import pull as pull_stage
from syncd.stages.pull import CURSOR, SAVE_ROWS, pull
from syncd.store import cursors
from syncd.store.models import CustomerRow, InvoiceRow


def test_a_first_pull_commits_its_page_in_parts_and_mirrors_every_row(tmp_path: Path) -> None:
    invoices = SAVE_ROWS * 2 + 30
    with running_loop(tmp_path, invoices=invoices) as loop:
        begun: list[int] = []
        saving: set[int] = set()  # the transactions that wrote invoice rows

        def executing(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if statement.startswith("BEGIN"):
                begun.append(1)
            elif statement.startswith("INSERT INTO invoices"):
                saving.add(len(begun))

        event.listen(loop.ctx.db.engine, "before_cursor_execute", executing)
        result = pull(loop.ctx, loop.realm)
        assert result.full and result.invoices == invoices
        with loop.ctx.db.transaction() as session:
            mirrored = session.scalar(select(func.count()).select_from(InvoiceRow))
            customers = session.scalar(select(func.count()).select_from(CustomerRow))
            cursor = cursors.get(session, loop.realm, CURSOR)
        assert mirrored == invoices
        assert customers == result.customers
        assert cursor is not None
        # Three parts of invoices (230 rows at 100 a part), not one transaction for the page.
        assert len(saving) == 3


def test_a_page_is_split_customers_first_and_its_deletions_last() -> None:
    page = pull_stage.QboChanges(
        invoices=tuple(range(5)),  # type: ignore[arg-type]
        customers=tuple(range(3)),  # type: ignore[arg-type]
        deleted_invoice_ids=("9",),
        skipped=1,
    )
    parts = list(pull_stage._parts(page, rows=2))
    assert [p.customers for p in parts] == [(0, 1), (2,), (), (), ()]
    assert [p.invoices for p in parts] == [(), (), (0, 1), (2, 3), (4,)]
    assert [p.deleted_invoice_ids for p in parts] == [(), (), (), (), ("9",)]
    assert parts[-1].skipped == 1


def test_a_page_with_qbo_payments_stays_whole() -> None:
    page = pull_stage.QboChanges(
        invoices=tuple(range(5)),  # type: ignore[arg-type]
        payments=("p",),  # type: ignore[arg-type]
    )
    assert list(pull_stage._parts(page, rows=2)) == [page]
