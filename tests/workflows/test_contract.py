"""Every diagram in workflows/ can run in the app: forms render, lanes name someone."""

from __future__ import annotations

import pytest

from app.engine import parse_files
from app.services.topics import TOPICS
from app.services.versions import folder_file_sets
from app.steps.lanes import lane_kind
from forms import build_form, check_form_spec
from forms.messages import needed_kinds
from tests.workflows.steps import WORKFLOWS

MODELS = [parse_files(files) for files in folder_file_sets(WORKFLOWS)]
CHOICES = {"my_groups": [("1", "G")], "led_groups": [("1", "G")], "working_groups": [("1", "G")],
           "eu_countries": [("BE", "Belgium")]}


def test_every_process_is_shipped():
    assert sorted(m.process_id for m in MODELS) == [
        "expert_request", "group_onboarding", "market_engagement", "travel_reimbursement"]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.process_id)
def test_start_form_renders_and_start_lane_resolves(model):
    assert model.start_form.key == f"{model.process_id}.start"
    assert check_form_spec(model.start_form) == []
    assert build_form(model.start_form, choices=CHOICES).field_specs
    assert lane_kind(model.start_lane) is not None


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.process_id)
def test_every_user_task_has_a_form_instructions_and_a_lane(model):
    assert model.tasks
    for task in model.tasks.values():
        assert task.form.key == f"{model.process_id}.{task.bpmn_id}"
        assert check_form_spec(task.form) == [], task.bpmn_id
        assert build_form(task.form, instance_data={}, choices=CHOICES).field_specs, task.bpmn_id
        assert lane_kind(task.lane) is not None, f"{task.bpmn_id}: lane {task.lane!r} names nobody"
        for extra in filter(None, task.properties.get("also", "").split(",")):
            assert lane_kind(extra) is not None, f"{task.bpmn_id}: also={extra!r} names nobody"
        assert task.documentation.strip(), f"{task.bpmn_id} has no instructions"
        decision = task.form.get("decision")
        if decision is not None:
            assert {value for value, _ in decision.options} <= {"approve", "request_changes", "reject"}


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.process_id)
def test_every_service_task_names_a_registered_service(model):
    assert set(model.service_topics.values()) <= set(TOPICS)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.process_id)
def test_every_field_words_each_error_it_can_show(model):
    """The shipped diagrams give every message in their own words (docs/DIAGRAMS.md)."""
    missing = []
    for form in [model.start_form, *(task.form for task in model.tasks.values())]:
        for spec in form.fields:
            missing += [f"{form.key}.{spec.id}: error_{kind}" for kind in needed_kinds(spec)
                        if not spec.properties.get(f"error_{kind}", "").strip()]
    assert missing == []
