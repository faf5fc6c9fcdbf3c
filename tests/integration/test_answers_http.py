"""A task page shows the request's answers so far, by step and round, as its viewer may read
them; the fields the diagram names first (show_first) come first; a readonly field is filled
from the variable of its id (Camunda's rule) and is not shown twice.

The small diagram (tests/fixtures/diagrams/answers_review.bpmn): Marta asks for a grant with
an IBAN and receipts (personal), a proposal (a file) and a motivation; Helena (the Commission,
who may not read personal data) reviews it, asks for more, reviews it again.
"""

from __future__ import annotations

import io
import re

from app.models import InstanceStatus
from tests.conftest import loaded, sign_in
from tests.diagrams import FIXTURES, complete, refreshed, start_request, text, upload_process
from tests.integration.test_travel_http import PDF

IBAN = "PL61 1090 1014 0000 0712 1981 2874"
MOTIVATION = "We buy three hundred laptops a year and want them refurbished."


def row(page: str, label: str) -> str | None:
    """The value of the first summary list row labelled ``label``, as text."""
    match = re.search(rf">{re.escape(label)}</dt>\s*<dd[^>]*>(.*?)</dd>", page, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split()) if match else None


def section(page: str, start: str, end: str) -> str:
    return page[page.index(start):page.index(end, page.index(start))]


def started(client):
    upload_process(client, {"answers_review.bpmn": (FIXTURES / "diagrams" / "answers_review.bpmn").read_bytes()})
    return start_request(client, "marta", "answers_review", {
        "organisation": "City of Gdańsk", "motivation": MOTIVATION, "colour": "red", "bank_iban": IBAN},
        {"receipts": [(io.BytesIO(PDF), "train-ticket.pdf")], "proposal": [(io.BytesIO(PDF), "proposal.pdf")]})


def task_page(client, who: str, task) -> str:
    sign_in(client, who)
    return loaded(client.get(f"/tasks/{task.id}"))


def test_the_reviewer_sees_the_answers_first_fields_first_personal_ones_masked(client):
    instance = started(client)
    [review] = [t for t in refreshed(instance).tasks if t.bpmn_id == "review"]
    page = task_page(client, "helena", review)

    # What the diagram names first, in its order, above everything else; then the rest by step.
    first = section(page, "What you are reviewing", "Everything else sent so far")
    assert [label for label in re.findall(r'<dt class="govuk-summary-list__key">([^<]+)</dt>', first)] == [
        "Motivation", "Proposal", "Organisation"]
    assert MOTIVATION in first and "City of Gdańsk" in first
    assert re.search(r'<a class="govuk-link" href="/attachments/\d+">proposal.pdf</a>', first)
    rest = section(page, "Everything else sent so far", "Your response")
    assert "Start: Grant review" in rest and "Marta Nowak" in rest
    assert row(rest, "Colour") == "Red"
    # Helena may not read personal data: the IBAN masked, the receipts neither named nor linked.
    assert row(rest, "IBAN") == "•••• 2874" and IBAN not in page and "train-ticket.pdf" not in page
    assert row(rest, "Receipts") == "hidden"

    form = section(page, "Your response", "</form>")
    # A readonly field repeating an answer shown first is not shown again: the organisation.
    # Others stay where the diagram put them: the IBAN, filled by its id, masked for Helena.
    assert 'id="field-organisation"' not in form and row(form, "Account").replace(" ", "") == "••••2874"
    # Camunda's rule: a readonly field without defaultValue shows the variable of its id (the script's)...
    assert row(form, "Motivation length") == str(len(MOTIVATION))
    # ...but an explicit defaultValue wins over it.
    assert row(form, "House colour") == "Blue"
    assert 'name="review_comment"' in form

    # Marta, who may read it all, sees the IBAN whole on her request's monitoring-free page: the
    # history keeps it; the same function reads it for both views.
    sign_in(client, "marta")
    assert IBAN in loaded(client.get(f"/requests/{instance.id}"))


def test_each_round_of_a_repeated_step_is_kept_and_shown(client):
    instance = started(client)
    [review] = [t for t in refreshed(instance).tasks if t.bpmn_id == "review"]
    complete(client, "helena", review, {"decision": "request_changes", "review_comment": "Which models?"})
    [revise] = [t for t in refreshed(instance).tasks if t.bpmn_id == "revise" and t.is_ready]
    page = task_page(client, "marta", revise)
    # Fields she answers are not filled from the variables of their ids (only readonly ones are):
    # no earlier answer is sent again unseen.
    form = section(page, "Your response", "</form>")
    assert 'value="City of Gdańsk"' not in form and MOTIVATION not in form
    assert row(section(page, "Your response", "</form>"), "The reviewer asks") == "Which models?"  # beside the answer
    assert row(section(page, "What has been sent so far", "Your response"), "Comment") == "Which models?"
    complete(client, "marta", revise, {"organisation": "City of Gdańsk", "motivation": "Laptops of brand X."})

    [again] = [t for t in refreshed(instance).tasks if t.bpmn_id == "review" and t.is_ready]
    page = task_page(client, "helena", again)
    # Helena decides afresh: neither her last decision nor her comment is filled in.
    form = section(page, "Your response", "</form>")
    assert "Which models?" not in form and "checked" not in form
    # The latest motivation comes first; the first one stays under the start.
    assert "Laptops of brand X." in section(page, "What you are reviewing", "Everything else")
    assert MOTIVATION in section(page, "Everything else sent so far", "Your response")
    complete(client, "helena", again, {"decision": "request_changes", "review_comment": "And the price?"})
    [revise] = [t for t in refreshed(instance).tasks if t.bpmn_id == "revise" and t.is_ready]
    complete(client, "marta", revise, {"organisation": "City of Gdańsk", "motivation": "Brand X, 300 EUR each."})
    [last] = [t for t in refreshed(instance).tasks if t.bpmn_id == "review" and t.is_ready]
    page = task_page(client, "helena", last)
    assert "Review the grant — round 1" in page and "Review the grant — round 2" in page
    # Round 2 of "Say more" sent only fields shown first (its answers are the latest): nothing is left under it.
    assert "Say more — round 1" in page and "Say more — round 2" not in page
    assert "Brand X, 300 EUR each." in section(page, "What you are reviewing", "Everything else")
    assert "Which models?" in page and "And the price?" in page and "Laptops of brand X." in page
    complete(client, "helena", last, {"decision": "approve"})
    assert refreshed(instance).status == InstanceStatus.COMPLETED

    # Monitoring's data view keeps every round too, and the history every completion's data.
    sign_in(client, "clara")
    page = loaded(client.get(f"/monitor/instances/{instance.id}"))
    data = section(page, ">Data</h2>", ">Files</h2>")
    for title in ("Start: Grant review", "Review the grant — round 1", "Say more — round 1",
                  "Review the grant — round 2", "Say more — round 2", "Review the grant — round 3"):
        assert title in data, title
    assert "Which models?" in data and "And the price?" in data
    assert "Laptops of brand X." in data and "Brand X, 300 EUR each." in data
    history = text(client.get(f"/requests/{instance.id}"))
    assert "Which models?" in history and "And the price?" in history
