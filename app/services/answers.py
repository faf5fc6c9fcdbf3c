"""A request's answers so far, step by step, as the task page and monitoring show them.

Built from the history (``instance_history``), which keeps the data of every completion: a
step done twice ("Request more information") shows both rounds, each under its own title.
What a viewer may not read is masked there already.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from app.engine import FormSpec, ProcessModel, TaskDef
from forms import default_reference
from forms.translations import diagram_text

from .history import Answer, Entry

SHOW_FIRST = "show_first"  # a user task's property: the fields its page shows first


@dataclass
class StepAnswers:
    title: str  # the step's name, "— round 2" added when it was done more than once
    entry: Entry  # the completion (or the start) and what it sent


def answered_steps(history: list[Entry], model: ProcessModel) -> list[StepAnswers]:
    """Each form sent so far, oldest first: the start form, then every completed step, each
    round of a repeated step on its own."""
    found: list[tuple[tuple[str, str], str, Entry]] = []
    for entry in history:
        event = entry.event
        if event.action == "started":
            key, title = ("", ""), _("Start: %(process)s", process=model.name)
        elif event.action == "task_completed" and event.task is not None:
            key, title = (event.task.bpmn_id, event.task.name), diagram_text(event.task.instance.version,
                                                                              event.task.name)
        else:
            continue
        if entry.answers:
            found.append((key, title, entry))
    totals: dict[tuple[str, str], int] = {}
    for key, _title, _entry in found:
        totals[key] = totals.get(key, 0) + 1
    rounds: dict[tuple[str, str], int] = {}
    steps = []
    for key, title, entry in found:
        rounds[key] = rounds.get(key, 0) + 1
        steps.append(StepAnswers(_("%(step)s — round %(number)s", step=title, number=rounds[key]) if totals[key] > 1
                                 else title, entry))
    return steps


def show_first(definition: TaskDef) -> list[str]:
    """The field ids a user task's ``show_first`` property names, in its order."""
    return [name for name in (s.strip() for s in definition.properties.get(SHOW_FIRST, "").split(",")) if name]


def reviewing(steps: list[StepAnswers], first: list[str]) -> tuple[list[Answer], list[StepAnswers]]:
    """The latest answer of each field ``first`` names, in its order, unless it is empty, and
    the steps with the rest (a step left with nothing is left out)."""
    chosen: list[Answer] = []
    for field_id in first:
        latest = next((a for step in reversed(steps) for a in step.entry.answers if a.field_id == field_id), None)
        if latest is not None and not latest.empty and not any(latest is c for c in chosen):
            chosen.append(latest)
    rest = []
    for step in steps:
        answers = [a for a in step.entry.answers if not any(a is c for c in chosen)]
        if answers:
            rest.append(StepAnswers(step.title, Entry(step.entry.event, answers, step.entry.line)))
    return chosen, rest


def repeated_fields(form: FormSpec, first: list[Answer]) -> list[str]:
    """The readonly fields of a task's form that repeat an answer the page shows first
    (``show_first``): their id, or the one variable their default shows (``${name}``), is the
    field of one of ``first``. Other readonly fields stay where the diagram put them (the
    question a step answers, beside its answer box), and so do computed ones."""
    shown = {a.field_id for a in first}
    repeated = []
    for spec in form.fields:
        if not spec.readonly or spec.properties.get("computed"):
            continue
        shows = default_reference(spec) if spec.default is not None else spec.id  # None: a literal
        if shows in shown:
            repeated.append(spec.id)
    return repeated
