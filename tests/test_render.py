"""Every renderer shows a change that was due but did not happen as failed, never as done."""

from __future__ import annotations

import io
import json

from neon_sync.engine.plan import Action, Change
from neon_sync.render.plan import PlanJson, PlanMarkdown, PlanTable, Report

MADE = Change("shop", "production", "DATABASE_URL", Action.CREATE, "main", masked="****")
REFUSED = Change("shop", "production", "DIRECT_URL", Action.CREATE, "main", masked="****")
REPORT = Report([MADE, REFUSED], {}, applied=True, undone=[REFUSED])


def rendered(renderer: PlanJson | PlanMarkdown | PlanTable) -> str:
    stream = io.StringIO()
    renderer.render(REPORT, stream)
    return stream.getvalue()


def test_table_marks_the_undone_change_failed_and_counts_it_apart() -> None:
    text = rendered(PlanTable())
    assert "failed (create)" in text
    assert "1 created, 1 failed" in text


def test_json_flags_only_the_undone_change() -> None:
    doc = json.loads(rendered(PlanJson()))
    assert [c["key"] for c in doc["changes"] if c.get("failed")] == ["DIRECT_URL"]


def test_job_summary_marks_the_undone_change_failed() -> None:
    rows = [line for line in rendered(PlanMarkdown()).splitlines() if "_URL" in line]
    assert rows == [
        "| create | shop | production | DATABASE_URL | main | **** |",
        "| failed (create) | shop | production | DIRECT_URL | main | **** |",
    ]
