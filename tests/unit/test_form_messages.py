"""Error messages people read: the diagram's own words, generated ones, GOV.UK date inputs."""

import datetime as dt

import pytest
from werkzeug.datastructures import MultiDict

from app.engine.model import FieldSpec, FormSpec
from forms import build_form, check_form_spec

REQUIRED = {"required": "true"}


def field(id: str, label: str, type: str = "string", **kwargs) -> FieldSpec:
    return FieldSpec(id=id, label=label, type=type, **kwargs)


def errors(*fields: FieldSpec, **data) -> dict[str, str]:
    form = build_form(FormSpec(key="messages.start", fields=fields), formdata=MultiDict(data))
    form.validate()
    return dict(form.error_list)


@pytest.mark.parametrize(("label", "kind", "expected"), [
    ("Ticket cost", "string", "Enter the ticket cost"),
    ("Tickets (EUR)", "decimal", "Enter the tickets in euros"),
    ("One-way distance (km)", "long", "Enter the one-way distance"),
    ("Travelling from", "string", "Enter an answer for “Travelling from”"),
    ("Where did you travel from?", "string", "Enter an answer for “Where did you travel from”"),
    ("Describe the expertise you need", "text", "Describe the expertise you need"),
    ("Your organisation", "string", "Enter your organisation"),
    ("IBAN", "iban", "Enter the IBAN"),
])
def test_generated_required_message_reads_well_for_any_label(label, kind, expected):
    assert errors(field("x", label, kind, constraints=REQUIRED)) == {"x": expected}


def test_generated_choice_and_declaration_messages():
    options = (("a", "A"), ("b", "B"))
    assert errors(field("x", "Travel mode", "enum", options=options, constraints=REQUIRED)) == {
        "x": "Select the travel mode"}
    assert errors(field("x", "Going by", "enum", options=options, constraints=REQUIRED)) == {
        "x": "Select an option for “Going by”"}
    assert errors(field("x", "I confirm my details are right.", "boolean", properties={"checked": "true"})) == {
        "x": "Select the box to confirm your details are right"}


def test_a_non_noun_label_is_quoted_in_other_messages_too():
    travel_from = field("x", "Travelling from", constraints={"maxlength": "5"})
    assert errors(travel_from, x="Gdańsk") == {"x": "The answer for “Travelling from” must be 5 characters or less"}
    assert errors(field("x", "Tickets (EUR)", "decimal"), x="lots") == {
        "x": "Tickets in euros must be an amount in euros, like 125.50"}
    assert errors(field("x", "Time by rail", "decimal", properties={"unit": "hours"}), x="long") == {
        "x": "Time by rail must be a number, like 2.5"}


def test_the_diagram_words_each_message_and_placeholders_take_the_constraint():
    cost = field("ticket_cost", "Tickets (EUR)", "decimal", constraints={**REQUIRED, "min": "0", "max": "5000"},
                 properties={"error_required": "Enter the cost of tickets in euros",
                             "error_format": "Cost of tickets must be an amount of money, like 125.50",
                             "error_min": "Cost of tickets must be {min} EUR or more",
                             "error_max": "Cost of tickets must be {max} EUR or less"})
    assert errors(cost) == {"ticket_cost": "Enter the cost of tickets in euros"}
    assert errors(cost, ticket_cost="ten") == {"ticket_cost": "Cost of tickets must be an amount of money, like 125.50"}
    assert errors(cost, ticket_cost="-1") == {"ticket_cost": "Cost of tickets must be 0 EUR or more"}
    assert errors(cost, ticket_cost="6000") == {"ticket_cost": "Cost of tickets must be 5,000 EUR or less"}
    name = field("name", "Name", constraints={"minlength": "3", "maxlength": "4"},
                 properties={"error_minlength": "Name must be {minlength} characters or more",
                             "error_maxlength": "Name must be {maxlength} characters or fewer"})
    assert errors(name, name="ab") == {"name": "Name must be 3 characters or more"}
    assert errors(name, name="abcde") == {"name": "Name must be 4 characters or fewer"}
    declaration = field("declaration", "I declare that this claim is true", "boolean",
                        properties={"checked": "true", "error_required": "Confirm that the claim is true"})
    assert errors(declaration) == {"declaration": "Confirm that the claim is true"}


def test_the_upload_check_names_a_message_a_field_cannot_have():
    spec = FormSpec(key="messages.start", fields=(
        field("a", "A", properties={"error_checksum": "x"}),
        field("b", "B", "iban", properties={"error_chksum": "x"}),
        field("c", "C", "iban", properties={"error_checksum": "x", "error_format": "y"}),
    ))
    assert check_form_spec(spec) == [
        "field 'a': a string field has no error_checksum message; "
        "it may have error_required, error_format, error_minlength, error_maxlength",
        "field 'b': an iban field has no error_chksum message; "
        "it may have error_required, error_format, error_checksum, error_minlength, error_maxlength",
    ]


# --- GOV.UK date inputs ---------------------------------------------------------------------------

MEETING = field("meeting_date", "Meeting date", "date", constraints=REQUIRED,
                properties={"error_required": "Enter the date of the meeting",
                            "error_incomplete": "Date of the meeting must include a {missing}",
                            "error_format": "Date of the meeting must be a real date"})


def date_form(spec: FieldSpec = MEETING, day="", month="", year=""):
    data = {f"{spec.id}-day": day, f"{spec.id}-month": month, f"{spec.id}-year": year}
    form = build_form(FormSpec(key="messages.start", fields=(spec,)), formdata=MultiDict(data))
    form.validate()
    return form


def test_a_date_is_read_from_its_three_boxes():
    form = date_form(day="5", month="03", year="2027")
    assert form.cleaned == {"meeting_date": dt.date(2027, 3, 5)}
    assert date_form(day=" 5 ", month="Mar", year="2027").cleaned == {"meeting_date": dt.date(2027, 3, 5)}
    assert date_form(day="5", month="march", year="2027").cleaned == {"meeting_date": dt.date(2027, 3, 5)}


@pytest.mark.parametrize(("day", "month", "year", "message", "marked"), [
    ("", "", "", "Enter the date of the meeting", ()),
    ("5", "", "2027", "Date of the meeting must include a month", ("month",)),
    ("", "", "2027", "Date of the meeting must include a day and month", ("day", "month")),
    ("5", "3", "", "Date of the meeting must include a year", ("year",)),
    ("30", "2", "2027", "Date of the meeting must be a real date", ()),
    ("5", "13", "2027", "Date of the meeting must be a real date", ()),
    ("5", "3", "27", "Date of the meeting must be a real date", ("year",)),
])
def test_a_date_says_which_part_is_missing_or_wrong(day, month, year, message, marked):
    form = date_form(day=day, month=month, year=year)
    assert form.error_list == [("meeting_date", message)]
    assert form.meeting_date.error_parts == marked
    shown = {part: form.meeting_date.part_has_error(part) for part in ("day", "month", "year")}
    assert shown == {part: (not marked or part in marked) for part in shown}


def test_generated_date_messages_and_limits():
    departure = field("departure_date", "Departure date", "date", constraints={"min": "2027-01-01"})
    assert dict(date_form(departure, day="5", year="2027").error_list) == {
        "departure_date": "Departure date must include a month"}
    assert dict(date_form(departure, day="5", month="3", year="27").error_list) == {
        "departure_date": "Departure date must include a year with 4 numbers, like 2027"}
    assert dict(date_form(departure, day="5", month="3", year="2026").error_list) == {
        "departure_date": "Departure date must be the same as or after 1 January 2027"}
    assert date_form(departure).cleaned == {"departure_date": None}  # optional and left empty


def test_a_date_sent_in_one_piece_is_still_read():
    form = build_form(FormSpec(key="messages.start", fields=(MEETING,)),
                      formdata=MultiDict({"meeting_date": "2027-03-05"}))
    assert form.validate() and form.cleaned == {"meeting_date": dt.date(2027, 3, 5)}
    assert form.meeting_date.date_parts == {"day": "5", "month": "3", "year": "2027"}


# --- a computed figure is shown once it is known ------------------------------------------------

def test_a_computed_total_shows_once_its_inputs_are_right_even_if_another_field_is_wrong():
    fields = (
        field("ticket_cost", "Tickets (EUR)", "decimal"), field("accommodation_cost", "Accommodation (EUR)", "decimal"),
        field("other_costs", "Other costs (EUR)", "decimal"), field("iban", "IBAN", "iban"),
        field("total_claimed", "Total claimed (EUR)", "decimal", constraints={"readonly": "true"},
              properties={"computed": "travel_claim_total"}),
    )
    spec = FormSpec(key="messages.start", fields=fields)
    assert build_form(spec)["total_claimed"].display == "Calculated when you submit this form"
    form = build_form(spec, formdata=MultiDict({"ticket_cost": "180.40", "accommodation_cost": "300",
                                                "other_costs": "12.60", "iban": "PL61 1090"}))
    assert not form.validate()
    assert form["total_claimed"].display == "493.00 EUR"
    form = build_form(spec, formdata=MultiDict({"ticket_cost": "lots", "accommodation_cost": "300"}))
    assert not form.validate()
    assert form["total_claimed"].display == "Calculated when you submit this form"
