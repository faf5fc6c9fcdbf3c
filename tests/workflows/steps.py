"""Steps the headless process tests share: what is waiting, and completing one of it."""

from __future__ import annotations

from pathlib import Path

from app.engine import parse_files

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"


def shipped_model(*names: str):
    """The process the shipped files ``names`` (a .bpmn and its .dmn files) define, parsed."""
    return parse_files({name: (WORKFLOWS / name).read_text(encoding="utf-8") for name in names})


def ready(engine, wf):
    """The waiting tasks as (bpmn id, lane) pairs, what a person sees in the inboxes."""
    return [(t.bpmn_id, t.definition.lane) for t in engine.ready_tasks(wf)]


def complete(engine, wf, bpmn_id, **data):
    """Complete the waiting task ``bpmn_id`` with ``data``; fail naming what waits instead."""
    tasks = [t for t in engine.ready_tasks(wf) if t.bpmn_id == bpmn_id]
    assert tasks, f"{bpmn_id} is not waiting; waiting: {ready(engine, wf)}"
    engine.complete(wf, tasks[0].id, data)
