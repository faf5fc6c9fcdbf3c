"""Forms built from diagram declarations: what a person submits, sees and is told."""

import datetime as dt
import hashlib
import io
import zipfile
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from freezegun import freeze_time
from jinja2 import Environment, FileSystemLoader
from werkzeug.datastructures import FileStorage, MultiDict

from app.engine.model import FieldSpec, FormSpec
from forms import DynamicForm, Upload, build_form, check_form_spec, convert, display_value, rules

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
REQUIRED = {"required": "true"}

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64)


def spec_of(*fields: FieldSpec, key: str = "test_forms.start") -> FormSpec:
    return FormSpec(key=key, fields=fields)


def field(id: str, label: str, type: str = "string", **kwargs) -> FieldSpec:
    return FieldSpec(id=id, label=label, type=type, **kwargs)


def submit(spec: FormSpec, files=None, **data) -> DynamicForm:
    form = build_form(spec, formdata=MultiDict(data), files=files)
    form.validate()
    return form


def one(spec_field: FieldSpec, value: str):
    """Submit one field; return (cleaned value or None, error message or None)."""
    form = submit(spec_of(spec_field), **{spec_field.id: value})
    errors = dict(form.error_list)
    return (None if errors else form.cleaned[spec_field.id]), errors.get(spec_field.id)


def upload(name: str, data: bytes) -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name, content_type="application/octet-stream")


def files_for(field_id: str, *storages: FileStorage) -> MultiDict:
    return MultiDict([(field_id, s) for s in storages])


# --- text, numbers, dates ------------------------------------------------------------------

def test_string_is_stripped_and_checked_for_length():
    title = field("title", "Title", constraints={"minlength": "3", "maxlength": "10"})
    assert one(title, "  Kick-off  ") == ("Kick-off", None)
    assert one(title, "ab") == (None, "Title must be 3 characters or more")
    assert one(title, "a" * 11) == (None, "Title must be 10 characters or less")


def test_string_without_maxlength_still_refuses_a_huge_post():
    assert one(field("title", "Title"), "a" * 5000) == (None, "Title must be 1,000 characters or less")


def test_text_counts_a_line_break_as_one_character():
    motivation = field("motivation", "Motivation", "text", constraints={"minlength": "50", "maxlength": "59"})
    assert one(motivation, "short") == (None, "Motivation must be 50 characters or more")
    text = "a" * 29 + "\r\n" + "a" * 29  # 59 characters as the person sees them, 60 as sent
    assert one(motivation, text) == (text.replace("\r\n", "\n"), None)


@pytest.mark.parametrize(("typed", "expected"), [("12", 12), ("1,200", 1200), (" 1 200 ", 1200), ("-3", -3)])
def test_long_becomes_int(typed, expected):
    assert one(field("km", "Distance", "long"), typed) == (expected, None)


@pytest.mark.parametrize("typed", ["12.5", "twelve", "1e3", "١٢"])
def test_long_refuses_what_is_not_a_whole_number(typed):
    assert one(field("km", "Distance", "long"), typed) == (None, "Distance must be a whole number")


def test_long_min_and_max():
    people = field("participants", "Expected participants", "long", constraints={"min": "1", "max": "500"})
    assert one(people, "1") == (1, None)
    assert one(people, "500") == (500, None)
    assert one(people, "0") == (None, "Expected participants must be 1 or more")
    assert one(people, "501") == (None, "Expected participants must be 500 or less")


@pytest.mark.parametrize(("typed", "expected"), [
    ("12.5", Decimal("12.50")), ("12", Decimal("12.00")), ("1,234.50", Decimal("1234.50")),
    ("12,50", Decimal("12.50")), ("€ 80", Decimal("80.00")), ("80 EUR", Decimal("80.00")),
    ("12.500", Decimal("12.50")), ("-0", Decimal("0.00")),
])
def test_decimal_becomes_money_with_two_places(typed, expected):
    value, error = one(field("cost", "Ticket cost", "decimal"), typed)
    assert error is None
    assert value == expected and str(value) == str(expected)


def test_decimal_refuses_more_than_two_places_and_words():
    cost = field("cost", "Ticket cost", "decimal")
    assert one(cost, "12.345") == (None, "Ticket cost must not have more than 2 decimal places")
    for typed in ("abc", "NaN", "Infinity", "1e5", "12..5"):
        assert one(cost, typed) == (None, "Ticket cost must be an amount in euros, like 125.50")


def test_decimal_min_and_max():
    cost = field("cost", "Ticket cost", "decimal", constraints={"min": "0", "max": "10000"})
    assert one(cost, "0") == (Decimal("0.00"), None)
    assert one(cost, "-0.01") == (None, "Ticket cost must be 0 or more")
    assert one(cost, "10000.01") == (None, "Ticket cost must be 10,000 or less")


def test_date_accepts_iso_and_the_european_way():
    departure = field("departure", "Departure date", "date")
    assert one(departure, "2027-03-05") == (dt.date(2027, 3, 5), None)
    assert one(departure, "5/3/2027") == (dt.date(2027, 3, 5), None)
    assert one(departure, "2027-02-30") == (None, "Departure date must be a real date")
    assert one(departure, "next week") == (None, "Departure date must be a real date")


def test_date_min_and_max_are_iso_dates():
    meeting = field("meeting_date", "Meeting date", "date",
                    constraints={"min": "2027-01-01", "max": "2027-12-31"})
    assert one(meeting, "2027-01-01") == (dt.date(2027, 1, 1), None)
    assert one(meeting, "2026-12-31") == (None, "Meeting date must be the same as or after 1 January 2027")
    assert one(meeting, "2028-01-01") == (None, "Meeting date must be the same as or before 31 December 2027")


@freeze_time("2027-03-05")
def test_future_date_must_be_after_today():
    event = field("event_date", "Proposed date", "date", properties={"future": "true"})
    assert one(event, "2027-03-06") == (dt.date(2027, 3, 6), None)
    assert one(event, "2027-03-05") == (None, "Proposed date must be in the future")


def test_email():
    email = field("contact_email", "Contact email", "email")
    assert one(email, " ana.lopez@valencia.es ") == ("ana.lopez@valencia.es", None)
    message = "Enter an email address in the correct format, like name@example.com"
    for typed in ("ana", "ana@", "ana@valencia", "ana lopez@valencia.es", "ana@@valencia.es", "a..b@x.eu"):
        assert one(email, typed) == (None, message)


def test_email_may_be_internationalised():
    email = field("contact_email", "Contact email", "email")
    assert one(email, "tómas.peeters@bruxelles.example.eu") == ("tómas.peeters@bruxelles.example.eu", None)
    assert one(email, "jürgen@münchen.de") == ("jürgen@münchen.de", None)
    message = "Enter an email address in the correct format, like name@example.com"
    # Malformed however it is spelt; and a no-break or zero-width space is not a letter.
    for typed in ("tómas..peeters@bruxelles.eu", "tómas@bruxelles", "tómas@@bruxelles.eu", "tómas\u00a0p@bruxelles.eu",
                  "tómas\u200b@bruxelles.eu", "é" * 33 + "@bruxelles.eu"):  # 66 bytes before the @: too long
        assert one(email, typed) == (None, message)


def test_is_email_is_the_rule_the_forms_follow():
    assert convert.is_email("tómas.peeters@bruxelles.example.eu")
    assert convert.is_email("ana.lopez@valencia.es")
    assert not convert.is_email("tómas.peeters@")
    assert not convert.is_email("tómas peeters@bruxelles.example.eu")


def test_iban_is_checked_and_stored_compact():
    iban = field("iban", "IBAN", "iban")
    assert one(iban, "de89 3704 0044 0532 0130 00") == ("DE89370400440532013000", None)
    message = "Enter an IBAN in the correct format, like DE89 3704 0044 0532 0130 00"
    checksum = "The IBAN is not right: check it against your bank details, a character may be wrong or swapped"
    assert one(iban, "DE89 3704 0044 0532 0130 01") == (None, checksum)  # good format, bad checksum
    assert one(iban, "not an iban") == (None, message)
    assert one(iban, "DE89 3704 0044 0532 0130 0") == (None, message)  # one character short


def test_iban_message_repeats_the_example_of_the_hint_and_the_diagram_may_word_both():
    hinted = field("iban", "IBAN", "iban", properties={"hint": "For example, BE71 0961 2345 6769."})
    assert one(hinted, "BE71 0961") == (None, "Enter an IBAN in the correct format, like BE71 0961 2345 6769")
    worded = field("iban", "IBAN", "iban", properties={
        "error_format": "Enter your IBAN in the correct format, like BE71 0961 2345 6769",
        "error_checksum": "Check your IBAN: it has a mistake in it"})
    assert one(worded, "BE71 0961") == (None, "Enter your IBAN in the correct format, like BE71 0961 2345 6769")
    assert one(worded, "BE71 0961 2345 6760") == (None, "Check your IBAN: it has a mistake in it")


# --- required, booleans, enums --------------------------------------------------------------

def test_required_field_left_empty_says_what_to_enter():
    spec = spec_of(
        field("meeting_date", "Meeting date", "date", constraints=REQUIRED),
        field("iban", "IBAN", "iban", constraints=REQUIRED),
        field("mode", "Mode of travel", "enum", options=(("rail", "Rail"),), constraints=REQUIRED),
    )
    form = submit(spec, meeting_date="  ", iban="")
    assert form.error_list == [
        ("meeting_date", "Enter the meeting date"),
        ("iban", "Enter the IBAN"),
        ("mode", "Select the mode of travel"),
    ]


def test_empty_optional_fields_are_none():
    spec = spec_of(field("note", "Note"), field("nights", "Nights", "long"), field("cost", "Cost", "decimal"))
    form = submit(spec, note=" ", nights="")
    assert form.validate()
    assert form.cleaned == {"note": None, "nights": None, "cost": None}


def test_required_number_zero_is_an_answer():
    form = submit(spec_of(field("nights", "Nights", "long", constraints=REQUIRED)), nights="0")
    assert form.error_list == []
    assert form.cleaned == {"nights": 0}


def test_checkbox_is_true_when_ticked_and_false_when_not():
    spec = spec_of(field("overnight", "Overnight stay", "boolean"))
    assert submit(spec, overnight="true").cleaned == {"overnight": True}
    assert submit(spec).cleaned == {"overnight": False}


def test_declaration_must_be_ticked():
    spec = spec_of(field("declaration", "The claim is true", "boolean", properties={"checked": "true"}))
    assert submit(spec).error_list == [("declaration", "Select the box to confirm the claim is true")]
    assert submit(spec, declaration="true").cleaned == {"declaration": True}
    spec = spec_of(field("declaration", "I declare that this claim is true.", "boolean",
                         properties={"checked": "true"}))
    assert submit(spec).error_list == [
        ("declaration", "Select the box to confirm you declare that this claim is true")]


def test_required_boolean_is_a_yes_no_question():
    spec = spec_of(field("venue_confirmed", "Venue confirmed", "boolean", constraints=REQUIRED))
    assert submit(spec).error_list == [("venue_confirmed", "Select yes or no for “Venue confirmed”")]
    assert submit(spec, venue_confirmed="false").cleaned == {"venue_confirmed": False}
    assert submit(spec, venue_confirmed="true").cleaned == {"venue_confirmed": True}


def test_enum_accepts_only_declared_values():
    mode = field("mode", "Mode", "enum", options=(("rail", "Rail"), ("air", "Air (economy)")))
    assert one(mode, "air") == ("air", None)
    assert one(mode, "helicopter") == (None, "Select the mode")


def test_enum_with_choices_uses_the_options_the_app_gives():
    group = field("working_group_id", "Working group", "enum", properties={"choices": "my_groups"},
                  constraints=REQUIRED)
    spec = spec_of(group)
    choices = {"my_groups": [("7", "Circular ICT"), ("9", "Clean heavy-duty vehicles")]}
    form = build_form(spec, MultiDict({"working_group_id": "9"}), choices=choices)
    assert form.validate()
    assert form.cleaned == {"working_group_id": "9"}
    # A group the person does not belong to is refused, as is any value without choices.
    assert not build_form(spec, MultiDict({"working_group_id": "8"}), choices=choices).validate()
    missing = build_form(spec, MultiDict({"working_group_id": "9"}))
    assert not missing.validate()
    assert missing.error_list == [("working_group_id", "Select the working group")]


# --- what the POST may not change -------------------------------------------------------------

def test_readonly_field_ignores_a_crafted_post():
    spec = spec_of(
        field("amount", "Claimed amount", "decimal", default="${amount}", constraints={"readonly": "true"}),
        field("comment", "Comment"),
    )
    crafted = MultiDict({"amount": "99999", "comment": "ok"})
    form = build_form(spec, crafted, instance_data={"amount": "120.5"})
    assert form.validate()
    assert form.cleaned == {"comment": "ok"}
    assert form["amount"].display == "120.50 EUR"


def test_unknown_post_keys_never_reach_the_data():
    form = submit(spec_of(field("comment", "Comment")), comment="ok", is_admin="true", decision="approve")
    assert form.cleaned == {"comment": "ok"}


def test_required_if_applies_only_to_the_named_decisions():
    spec = spec_of(
        field("decision", "Decision", "enum", constraints=REQUIRED,
              options=(("approve", "Approve"), ("request_changes", "Request changes"), ("reject", "Reject"))),
        field("reason", "Reason", "text", properties={"required_if": "decision=reject,request_changes"}),
    )
    assert submit(spec, decision="reject").error_list == [("reason", "Enter the reason")]
    assert submit(spec, decision="request_changes").error_list == [("reason", "Enter the reason")]
    approved = submit(spec, decision="approve")
    assert approved.cleaned == {"decision": "approve", "reason": None}
    assert build_form(spec)["reason"].hint == "Needed if you select Request changes or Reject."


def test_required_if_works_for_files_and_a_diagram_hint_wins():
    spec = spec_of(
        field("decision", "Decision", "enum", constraints=REQUIRED,
              options=(("approve", "Approve"), ("reject", "Reject"))),
        field("evidence", "Evidence", "file", properties={"required_if": "decision=reject",
                                                          "hint": "A scan of the letter"}),
    )
    assert submit(spec, decision="reject").error_list == [("evidence", "Select the evidence")]
    assert submit(spec, decision="approve").validate()
    assert build_form(spec)["evidence"].hint == "A scan of the letter"


def test_computed_field_is_worked_out_from_clean_values(monkeypatch):
    monkeypatch.setitem(rules.COMPUTATIONS, "test_forms_total",
                        lambda data: data["ticket"] + (data["hotel"] or Decimal("0.00")))
    spec = spec_of(
        field("ticket", "Ticket cost", "decimal", constraints=REQUIRED),
        field("hotel", "Accommodation cost", "decimal"),
        field("total", "Total", "decimal", constraints={"readonly": "true"},
              properties={"computed": "test_forms_total"}),
    )
    form = submit(spec, ticket="100.10", hotel="", total="1000000")
    assert form.cleaned == {"ticket": Decimal("100.10"), "hotel": None, "total": Decimal("100.10")}
    assert form["total"].display == "100.10 EUR"
    assert build_form(spec)["total"].display == "Calculated when you submit this form"


def test_cross_field_rule_errors_land_on_their_fields(monkeypatch):
    key = "test_forms.rule_form"
    monkeypatch.setitem(rules.RULES, key, [])

    @rules.rule(key)
    def return_after_departure(data):
        if data["return_date"] < data["departure"]:
            return {"return_date": "Return date must be the same as or after the departure date"}
        return {}

    spec = spec_of(
        field("departure", "Departure date", "date", constraints=REQUIRED),
        field("return_date", "Return date", "date", constraints=REQUIRED),
        key=key,
    )
    form = submit(spec, departure="2027-03-05", return_date="2027-03-04")
    assert form.error_list == [("return_date", "Return date must be the same as or after the departure date")]
    assert submit(spec, departure="2027-03-05", return_date="2027-03-05").validate()


def test_error_list_follows_the_form_order():
    spec = spec_of(
        field("title", "Title", constraints=REQUIRED),
        field("participants", "Expected participants", "long", constraints={"min": "1"}),
        field("email", "Email", "email"),
    )
    form = submit(spec, email="x", participants="0")
    assert form.error_list == [
        ("title", "Enter the title"),
        ("participants", "Expected participants must be 1 or more"),
        ("email", "Enter an email address in the correct format, like name@example.com"),
    ]
    with pytest.raises(RuntimeError):
        _ = form.cleaned


# --- files --------------------------------------------------------------------------------------

RECEIPTS = field("receipts", "Receipts", "file", constraints=REQUIRED,
                 properties={"accept": "pdf,jpeg,png", "multiple": "true"})
LETTER = field("letter", "Signed letter", "file", properties={"accept": "pdf"})


def test_good_files_become_uploads_named_and_typed_by_content():
    chosen = [upload("Zugticket März.pdf", PDF), upload("../../hotel.JPG", JPEG), upload("taxi.png", PNG)]
    form = submit(spec_of(RECEIPTS), files=files_for("receipts", *chosen))
    assert form.error_list == []
    assert form.cleaned == {}  # the service stores the files and records their ids
    uploads = form.uploads["receipts"]
    assert [(u.filename, u.content_type) for u in uploads] == [
        ("Zugticket_Marz.pdf", "application/pdf"), ("hotel.JPG", "image/jpeg"), ("taxi.png", "image/png")]
    assert uploads[0] == Upload("receipts", "Zugticket_Marz.pdf", "application/pdf", PDF, len(PDF),
                                hashlib.sha256(PDF).hexdigest())


def test_a_name_without_safe_characters_falls_back_to_upload():
    form = submit(spec_of(LETTER), files=files_for("letter", upload("счёт.pdf", PDF)))
    assert form.uploads["letter"][0].filename == "upload.pdf"


def test_png_bytes_named_pdf_are_refused_even_where_png_is_allowed():
    form = submit(spec_of(LETTER), files=files_for("letter", upload("letter.pdf", PNG)))
    assert form.error_list == [("letter", "The selected file must be a PDF")]
    form = submit(spec_of(RECEIPTS), files=files_for("receipts", upload("receipt.pdf", PNG)))
    assert form.error_list == [("receipts", "The selected file must be a PDF, JPEG or PNG")]


def test_text_named_png_is_refused_and_names_the_file_among_several():
    form = submit(spec_of(RECEIPTS), files=files_for(
        "receipts", upload("ticket.pdf", PDF), upload("photo.png", b"just some text")))
    assert form.error_list == [("receipts", "photo.png must be a PDF, JPEG or PNG")]


def test_a_file_over_the_size_cap_is_refused():
    small = field("letter", "Signed letter", "file", properties={"accept": "png", "max_size_mb": "1"})
    big = PNG + bytes(int(1.1 * 1024 * 1024))
    form = submit(spec_of(small), files=files_for("letter", upload("scan.png", big)))
    assert form.error_list == [("letter", "The selected file must be smaller than 1 MB")]
    assert submit(spec_of(small), files=files_for("letter", upload("scan.png", PNG))).validate()


def test_default_size_cap_is_10_mb():
    big = upload("big.pdf", PDF + bytes(10 * 1024 * 1024))
    form = submit(spec_of(LETTER), files=files_for("letter", big))
    assert form.error_list == [("letter", "The selected file must be smaller than 10 MB")]


def test_empty_file_is_refused():
    form = submit(spec_of(LETTER), files=files_for("letter", upload("letter.pdf", b"")))
    assert form.error_list == [("letter", "The selected file is empty")]


def test_required_file_needs_one_and_optional_may_have_none():
    empty_input = FileStorage(stream=io.BytesIO(b""), filename="")  # what a browser sends for no file
    assert submit(spec_of(RECEIPTS), files=files_for("receipts", empty_input)).error_list == [
        ("receipts", "Select the receipts")]
    optional = submit(spec_of(LETTER), files=files_for("letter", empty_input))
    assert optional.validate() and optional.uploads == {"letter": []}


def test_several_files_only_where_allowed_and_at_most_ten():
    two = [upload("a.pdf", PDF), upload("b.pdf", PDF)]
    assert submit(spec_of(LETTER), files=files_for("letter", *two)).error_list == [
        ("letter", "Select only one file")]
    eleven = [upload(f"{n}.pdf", PDF) for n in range(11)]
    assert submit(spec_of(RECEIPTS), files=files_for("receipts", *eleven)).error_list == [
        ("receipts", "You can only select up to 10 files at the same time")]
    assert len(submit(spec_of(RECEIPTS), files=files_for("receipts", *two)).uploads["receipts"]) == 2


def xlsx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:  # entries in the order openpyxl writes them
        archive.writestr("docProps/app.xml", "<Properties/>")
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


def test_attendance_list_may_be_csv_or_xlsx():
    attendance = field("attendance", "Attendance list", "file", properties={"accept": "csv,xlsx"})
    spec = spec_of(attendance)
    text = "name;city\nAna;València\n".encode()
    csv = submit(spec, files=files_for("attendance", upload("list.csv", text)))
    assert csv.uploads["attendance"][0].content_type == "text/csv"
    xlsx = submit(spec, files=files_for("attendance", upload("list.xlsx", xlsx_bytes())))
    assert xlsx.uploads["attendance"][0].filename == "list.xlsx"
    assert submit(spec, files=files_for("attendance", upload("list.csv", b"\xff\xfe\x00bin"))).error_list == [
        ("attendance", "The selected file must be a CSV or XLSX")]
    assert submit(spec, files=files_for("attendance", upload("list.xlsx", PDF))).error_list == [
        ("attendance", "The selected file must be a CSV or XLSX")]


# --- defaults, display, spec checks ---------------------------------------------------------------

def test_defaults_show_instance_values_in_their_types():
    spec = spec_of(
        field("meeting_date", "Meeting date", "date", default="${meeting_date}"),
        field("cost", "Cost", "decimal", default="${cost}"),
        field("mode", "Mode", "enum", default="rail", options=(("rail", "Rail"), ("bus", "Bus"))),
        field("overnight", "Overnight stay", "boolean", default="true"),
        field("note", "Note", default="${missing}"),
    )
    form = build_form(spec, instance_data={"meeting_date": dt.date(2027, 3, 5), "cost": Decimal("80")})
    assert form["meeting_date"].value_text == "2027-03-05"
    assert form["cost"].value_text == "80.00"
    assert form["mode"].value_text == "rail"
    assert form["overnight"].checked
    assert form["note"].value_text == ""


def test_a_readonly_field_without_default_shows_the_variable_of_its_id():
    readonly = {"readonly": "true"}
    spec = spec_of(
        field("cost", "Cost", "decimal", constraints=readonly),  # Camunda's rule
        field("mode", "Mode", "enum", default="bus", constraints=readonly,
              options=(("rail", "Rail"), ("bus", "Bus"))),  # an explicit default wins
        field("receipts", "Receipts", "file", constraints=readonly),
        field("total", "Total", "decimal", constraints=readonly, properties={"computed": "travel_claim_total"}),
        field("comment", "Comment", "text"),  # answered by the person: never filled this way
        field("decision", "Decision", "enum", options=(("approve", "Approve"),)),
        field("upload", "Upload", "file"),
    )
    data = {"cost": Decimal("80"), "mode": "rail", "receipts": [3, 4], "total": Decimal("9"),
            "comment": "An earlier step's reason", "decision": "approve", "upload": [5]}
    form = build_form(spec, instance_data=data)
    assert form["cost"].display == "80.00 EUR"
    assert form["mode"].display == "Bus"
    assert form["receipts"].display == "2 files"
    assert form["total"].display == "Calculated when you submit this form"  # worked out afresh
    assert form["comment"].value_text == "" and form["decision"].data is None and not form["upload"].data


def test_display_value_reads_like_the_form():
    assert display_value(field("cost", "Cost", "decimal"), Decimal("1234.5")) == "1,234.50 EUR"
    assert display_value(field("d", "Date", "date"), dt.date(2027, 3, 5)) == "5 March 2027"
    assert display_value(field("d", "Date", "date"), "2027-03-05") == "5 March 2027"
    assert display_value(field("ok", "OK", "boolean"), True) == "Yes"
    assert display_value(field("ok", "OK", "boolean"), False) == "No"
    mode = field("mode", "Mode", "enum", options=(("air", "Air (economy)"),))
    assert display_value(mode, "air") == "Air (economy)"
    assert display_value(field("g", "Group", "enum"), "7", options=[("7", "Circular ICT")]) == "Circular ICT"
    iban = field("iban", "IBAN", "iban")
    assert display_value(iban, "DE89370400440532013000") == "DE89 3704 0044 0532 0130 00"
    assert display_value(field("note", "Note"), None) == "—"
    assert display_value(field("r", "Receipts", "file"), ["a1", "a2"]) == "2 files"


def test_a_broken_declaration_is_reported_before_anyone_sees_it():
    broken = spec_of(
        field("validate", "Validate"),
        field("total", "Total", "decimal", constraints={"readonly": "true"}, properties={"computed": "nope"}),
        field("reason", "Reason", properties={"required_if": "choice=reject"}),
        field("mode", "Mode", "enum"),
    )
    problems = check_form_spec(broken)
    assert len(problems) == 4
    assert any("'nope'" in p for p in problems)
    with pytest.raises(ValueError, match="cannot be built"):
        build_form(broken)


# --- rendering ---------------------------------------------------------------------------------------

class Elements(HTMLParser):
    """Collect every start tag with its attributes, and the text of labels and links."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: dict[str, str] = {}
        self._open: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        key = dict(attrs).get("for") or dict(attrs).get("href")
        if tag in ("label", "a", "legend") and key:
            self._open.append(key)
            self.text[key] = ""

    def handle_endtag(self, tag):
        if tag in ("label", "a") and self._open:
            self._open.pop()

    def handle_data(self, data):
        for key in self._open:
            self.text[key] += data

    def by_id(self, element_id: str) -> tuple[str, dict[str, str | None]]:
        return next((tag, attrs) for tag, attrs in self.tags if attrs.get("id") == element_id)

    def has(self, tag: str, **attrs: str) -> bool:
        return any(t == tag and all(a.get(k) == v for k, v in attrs.items()) for t, a in self.tags)


def render(form: DynamicForm, body: str = "{{ error_summary(form) }}{{ fields(form) }}") -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, extensions=["jinja2.ext.i18n"])
    env.install_null_translations(newstyle=True)  # the macros' own words, in English as the app's default
    source = '{% from "macros/form.html" import error_summary, field, fields %}' + body
    return env.from_string(source).render(form=form)


CLAIM = spec_of(
    field("meeting_date", "Meeting date", "date", constraints=REQUIRED,
          properties={"hint": "For example, 5 3 2027"}),
    field("cost", "Ticket cost", "decimal", constraints={"min": "0"}),
    field("nights", "Nights", "long"),
    field("contact_email", "Contact email", "email", constraints=REQUIRED),
    field("mode", "Mode", "enum", constraints=REQUIRED, options=(("rail", "Rail"), ("air", "Air"))),
    field("country", "Country", "enum", constraints=REQUIRED,
          options=tuple((c, c.upper()) for c in ("at", "be", "bg", "hr", "cy", "cz"))),
    field("motivation", "Motivation", "text"),
    field("declaration", "The claim is true", "boolean", properties={"checked": "true"}),
    field("receipts", "Receipts", "file", constraints=REQUIRED, properties={"multiple": "true"}),
    field("total", "Total", "decimal", default="${total}", constraints={"readonly": "true"}),
)


def test_empty_form_renders_labels_hints_and_optional_marks():
    html = render(build_form(CLAIM, instance_data={"total": Decimal("42")}))
    page = Elements(html)
    for name in ("cost", "nights", "contact_email", "country", "motivation", "receipts"):
        assert page.has("label", **{"for": f"field-{name}"}), name
    # A date is GOV.UK's date input: day, month and year boxes in one fieldset, no date picker.
    assert page.has("fieldset", role="group", **{"aria-describedby": "field-meeting_date-hint"})
    for box_id, name, label in (("field-meeting_date", "meeting_date-day", "Day"),
                                ("field-meeting_date-month", "meeting_date-month", "Month"),
                                ("field-meeting_date-year", "meeting_date-year", "Year")):
        tag, attrs = page.by_id(box_id)
        assert (tag, attrs["type"], attrs["name"], attrs["inputmode"]) == ("input", "text", name, "numeric")
        assert page.text[box_id] == label
    assert not page.has("input", type="date")
    assert page.by_id("field-meeting_date-hint")[1]["class"] == "govuk-hint"
    assert page.by_id("field-cost")[1]["inputmode"] == "decimal"
    assert page.by_id("field-nights")[1]["inputmode"] == "numeric"
    assert page.by_id("field-contact_email")[1]["autocomplete"] == "email"
    assert page.text["field-nights"] == "Nights (optional)"
    # Two options: radios in a fieldset; six: a select. The first radio carries the field's id.
    assert page.by_id("field-mode")[1]["type"] == "radio"
    assert page.has("input", id="field-mode-2", value="air")
    assert page.has("legend", **{"class": "govuk-fieldset__legend govuk-fieldset__legend--s"})
    assert page.by_id("field-country")[0] == "select"
    assert page.by_id("field-motivation")[0] == "textarea"
    assert page.by_id("field-motivation")[1]["rows"] == "5"
    assert page.by_id("field-declaration")[1]["type"] == "checkbox"
    receipts = page.by_id("field-receipts")[1]
    assert receipts["type"] == "file" and "multiple" in receipts
    assert receipts["accept"] == ".pdf,.jpg,.jpeg,.png"
    assert receipts["aria-describedby"] == "field-receipts-hint"
    assert "PDF, JPEG or PNG, smaller than 10 MB each. You can select up to 10 files." in html
    # A readonly field is text, not an input that could be submitted.
    assert page.by_id("field-total")[0] == "dd"
    assert not page.has("input", name="total")
    assert "42.00 EUR" in html
    assert not page.has("div", **{"class": "govuk-error-summary"})


def test_errors_render_as_a_gov_uk_summary_linked_to_each_field():
    form = submit(CLAIM, cost="-1", contact_email="ana", motivation="<b>hi</b>",
                  **{"meeting_date-day": "30", "meeting_date-month": "2", "meeting_date-year": "2027"})
    html = render(form)
    page = Elements(html)
    assert page.has("div", **{"class": "govuk-error-summary", "data-module": "govuk-error-summary",
                              "tabindex": "-1"})
    assert "There is a problem" in html
    links = [attrs["href"] for tag, attrs in page.tags if tag == "a"]
    assert links == [f"#field-{name}" for name, _ in form.error_list]
    assert links == ["#field-meeting_date", "#field-cost", "#field-contact_email", "#field-mode",
                     "#field-country", "#field-declaration", "#field-receipts"]
    assert page.text["#field-meeting_date"] == "Meeting date must be a real date"
    assert page.has("fieldset", role="group",
                    **{"aria-describedby": "field-meeting_date-hint field-meeting_date-error"})
    typed = [(a["id"], a["value"], a.get("aria-invalid")) for t, a in page.tags
             if t == "input" and a.get("name", "").startswith("meeting_date-")]
    assert typed == [("field-meeting_date", "30", "true"), ("field-meeting_date-month", "2", "true"),
                     ("field-meeting_date-year", "2027", "true")]  # what the person typed, to correct it
    assert page.has("p", id="field-meeting_date-error", **{"class": "govuk-error-message"})
    assert '<span class="govuk-visually-hidden">Error:</span> Meeting date must be a real date' in html
    assert page.has("div", **{"class": "govuk-form-group govuk-form-group--error"})
    assert page.by_id("field-mode")[1]["aria-invalid"] == "true"
    assert "&lt;b&gt;hi&lt;/b&gt;" in html and "<b>hi</b>" not in html
    assert not page.has("input", id="field-nights", **{"aria-invalid": "true"})


def test_single_field_macro_and_submitted_choices_stay_selected():
    form = submit(CLAIM, mode="air", country="hr", declaration="true")
    page = Elements(render(form, '{{ field(form, "mode") }}{{ field(form, "country") }}'
                                 '{{ field(form, "declaration") }}'))
    assert "checked" in page.by_id("field-mode-2")[1] and "checked" not in page.by_id("field-mode")[1]
    assert [a["value"] for t, a in page.tags if t == "option" and "selected" in a] == ["hr"]
    assert "checked" in page.by_id("field-declaration")[1]
