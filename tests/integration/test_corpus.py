"""docs/COMPATIBILITY.md says what the app and stock SpiffWorkflow make of each corpus diagram:
regenerated here and compared, so the page never drifts from what the checks do."""

from __future__ import annotations

import time

from tests import corpus


def test_compatibility_page_matches_what_the_checks_say(app):
    started = time.perf_counter()
    table = corpus.rows()
    elapsed = time.perf_counter() - started
    expected = corpus.render(table)
    actual = corpus.PAGE.read_text() if corpus.PAGE.exists() else ""
    assert actual == expected, ("run `python -m tests.corpus` to update docs/COMPATIBILITY.md; rows that "
                                "changed:\n" + corpus.changed_rows(expected, actual))
    assert len(table) >= 50
    assert elapsed < 30, f"checking the corpus took {elapsed:.1f} s"


def test_every_corpus_file_has_its_source_and_licence():
    known = corpus.sources()
    files = {f"{p.parent.name}/{p.name}" for p in corpus.CORPUS.glob("*/*") if p.is_file()}
    assert files == set(known), f"not in SOURCES.md: {sorted(files - set(known))}; gone: {sorted(set(known) - files)}"
    assert {s.licence for s in known.values()} <= {"Apache-2.0", "LGPL-3.0", "CC-BY-3.0"}


def test_each_diagram_goes_with_the_dmn_files_it_names():
    by_name = {d.name: d for d in corpus.diagrams()}
    invoice = by_name["camunda-bpm-platform/invoice.v2.bpmn"]
    assert sorted(invoice.files) == ["invoice.v2.bpmn", "invoiceBusinessDecisions.dmn"]
    summed = by_name["camunda-bpm-platform/HistoricDecisionInstanceTest.processWithBusinessRuleTask.bpmn20.xml"]
    assert sorted(summed.files) == ["HistoricDecisionInstanceTest.decisionCollectSum.dmn",
                                    "HistoricDecisionInstanceTest.processWithBusinessRuleTask.bpmn"]
    assert "COLLECT SUM" in corpus.uses(summed)
    forms = by_name["camunda-bpm-examples/invoiceApproval.bpmn"]
    assert sorted(forms.files) == ["invoiceApproval.bpmn", "start-form.form", "task-form.form"]
    assert by_name["camunda-bpm-examples/sample.bpmn"].other_names == ()
