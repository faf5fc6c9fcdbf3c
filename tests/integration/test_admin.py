"""Administration through the browser's eyes: people, organisations, working groups."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, GroupMembership, Organisation, OutboxMessage, Role, User, WorkingGroup
from app.services.people import create_user, group_size_limit
from app.services.versions import folder_file_sets, store_version
from tests.conftest import ROOT, csrf_token, loaded, post_form, sign_in
from tests.conftest import person as demo_person

PASSWORD = "a-long-enough-password"

# Each lookup forgets what the test's session remembers, to read what the requests committed.


def person(email_start: str) -> User:
    db.session.expire_all()
    return demo_person(email_start)


def organisation(name: str) -> Organisation:
    db.session.expire_all()
    return db.session.scalar(select(Organisation).where(Organisation.name == name))


def group(name: str) -> WorkingGroup:
    db.session.expire_all()
    return db.session.scalar(select(WorkingGroup).where(WorkingGroup.name == name))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def admin_events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.channel == "admin", AuditEvent.action == action)))


def assert_problem(response, *fields: str) -> str:
    """A 400 page whose error summary links to each field; returns the page's text."""
    html = response.get_data(as_text=True)
    assert response.status_code == 400, html
    assert "govuk-error-summary" in html and "There is a problem" in html
    assert "<title>Error: " in html
    for field in fields:
        assert f'href="#field-{field}"' in html, field
        assert f'id="field-{field}-error"' in html, field
    return html


def person_form(user: User, **changes) -> dict:
    """The edit form as the page fills it in for ``user``, with ``changes``."""
    data = {"name": user.name, "email": user.email, "organisation": str(user.organisation_id),
            "roles": sorted(role.value for role in user.roles), "active": "y" if user.active else None}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


PAGES = ["/admin/", "/admin/people", "/admin/people/new", "/admin/people/1", "/admin/organisations",
         "/admin/organisations/new", "/admin/organisations/1", "/admin/groups", "/admin/groups/new",
         "/admin/groups/1", "/admin/groups/1/members"]
POSTS = ["/admin/people/new", "/admin/people/1", "/admin/organisations/new", "/admin/organisations/1",
         "/admin/groups/new", "/admin/groups/1", "/admin/groups/2/members",
         "/admin/groups/1/members/1/remove"]


@pytest.mark.parametrize("who", ["ana", "lukas", "clara", "felix", "helena"])
def test_only_administrators_see_or_change_anything(client, who):
    sign_in(client, who)
    for url in PAGES:
        assert client.get(url).status_code == 403, url
    token = csrf_token(client, "/inbox")
    for url in POSTS:
        assert client.post(url, data={"csrf_token": token, "name": "Taken over"}).status_code == 403, url
    assert count(GroupMembership) == 10
    assert not db.session.scalars(select(AuditEvent).where(AuditEvent.channel == "admin")).all()


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/admin/people")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_the_index_links_to_each_kind_and_shows_recent_changes(client):
    sign_in(client, "admin")
    post_form(client, "/admin/organisations/new", {"name": "Stad Gent", "type": "city", "country": "BE"})
    html = loaded(client.get("/admin/"))
    for href in ('href="/admin/people"', 'href="/admin/organisations"', 'href="/admin/groups"'):
        assert href in html
    assert "Stad Gent (City, Belgium) added" in html
    assert "Platform Administrator" in html


def test_people_are_listed_searched_and_paged(client):
    for number in range(30):
        create_user(f"buyer{number:02d}@zagreb.example.eu", f"Zagreb Buyer {number:02d}", PASSWORD,
                    [Role.BUYER], "City of Lisbon")
    db.session.commit()
    sign_in(client, "admin")

    html = loaded(client.get("/admin/people"))
    assert "40 people, page 1 of 2" in html
    assert "Ana Costa" in html and "ana.costa@lisboa.example.eu" in html and "City of Lisbon" in html
    assert "Platform Administrator" in html and "Administrator" in html and "Active" in html

    html = loaded(client.get("/admin/people?q=zagreb"))
    assert "30 people match “zagreb”, page 1 of 2" in html
    assert "Ana Costa" not in html
    assert "/admin/people?page=2&amp;q=zagreb" in html  # the next page keeps the search
    html = loaded(client.get("/admin/people?q=zagreb&page=2"))
    assert "Zagreb Buyer 29" in html and "Zagreb Buyer 00" not in html

    html = loaded(client.get("/admin/people?q=LISBOA"))
    assert "1 person matches" in html and "Ana Costa" in html
    html = loaded(client.get("/admin/people?q=%25"))
    assert "No one’s name or email address contains “%”" in html  # a wildcard is just a character


def test_an_administrator_adds_a_person_who_is_invited_by_email(client):
    admin = sign_in(client, "admin")
    response = post_form(client, "/admin/people/new", {
        "name": "Jana Novak", "email": "Jana.Novak@Ljubljana.example.eu",
        "organisation": str(organisation("City of Vienna").id), "roles": ["buyer", "coordinator"]})
    assert response.status_code == 302
    assert "We are emailing jana.novak@ljubljana.example.eu an invitation" in loaded(
        client.get(response.headers["Location"]))

    jana = person("jana.novak")
    assert jana.email == "jana.novak@ljubljana.example.eu"
    assert jana.organisation.name == "City of Vienna"
    assert jana.roles == {Role.BUYER, Role.COORDINATOR}
    [event] = admin_events("user_added")
    assert event.actor_id == admin.id and "Jana Novak" in event.summary
    [invited] = admin_events("invitation_sent")
    assert invited.actor_id == admin.id and "Invitation emailed to Jana Novak" in invited.summary
    [row] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient_id == jana.id))
    assert row.subject == "You are invited to Big Buyers Workflow"


def test_the_add_and_change_pages_have_no_password_field(client):
    """Administrators never type or see another person's password."""
    sign_in(client, "admin")
    for url in ("/admin/people/new", f"/admin/people/{person('kati').id}"):
        html = loaded(client.get(url))
        assert 'type="password"' not in html and 'name="password"' not in html, url
        assert "new_password" not in html, url
    assert "Send a new invitation / password link" in loaded(client.get(f"/admin/people/{person('kati').id}"))


def test_adding_a_person_refuses_a_taken_email_and_missing_details(client):
    sign_in(client, "admin")
    people_before = count(User)
    html = assert_problem(post_form(client, "/admin/people/new", {
        "name": "Ana Again", "email": "ANA.COSTA@lisboa.example.eu",
        "organisation": str(organisation("City of Lisbon").id), "roles": ["buyer"],
    }), "email")
    assert "Ana Costa already uses the email address ana.costa@lisboa.example.eu" in html
    assert 'value="Ana Again"' in html  # what was typed is kept

    assert_problem(post_form(client, "/admin/people/new", {"name": "", "email": "not an address"}),
                   "name", "email", "organisation", "roles")
    assert count(User) == people_before
    assert not admin_events("user_added")
    assert count(OutboxMessage) == 0


def test_an_administrator_changes_a_person_and_deactivates_them(app, client):
    kati_browser = app.test_client()
    sign_in(kati_browser, "kati")
    admin = sign_in(client, "admin")
    kati = person("kati")
    response = post_form(client, f"/admin/people/{kati.id}", person_form(
        kati, name="Kati Tamm-Kask", roles=["buyer", "finance"], active=None))
    assert response.status_code == 302

    kati = person("kati")
    assert kati.name == "Kati Tamm-Kask"
    assert kati.roles == {Role.BUYER, Role.FINANCE}
    assert not kati.active
    [event] = admin_events("user_updated")
    assert event.actor_id == admin.id
    assert "deactivated" in event.summary and "roles buyer → buyer, finance" in event.summary

    html = loaded(client.get("/admin/people?q=kati"))
    assert "Deactivated" in html
    response = kati_browser.get("/inbox")  # signed out at once, not only at the next sign-in
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]

    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/inbox")})
    response = client.post("/sign-in", data={"email": kati.email, "password": "bigbuyers-demo",
                                             "csrf_token": csrf_token(client, "/sign-in")})
    assert response.status_code == 400


def test_changing_a_person_refuses_a_missing_name_and_a_taken_email(client):
    sign_in(client, "admin")
    kati = person("kati")
    assert_problem(post_form(client, f"/admin/people/{kati.id}", person_form(kati, name="  ")), "name")
    html = assert_problem(post_form(client, f"/admin/people/{kati.id}",
                                    person_form(kati, email="ana.costa@lisboa.example.eu")), "email")
    assert "Ana Costa already uses" in html
    kati = person("kati")
    assert (kati.name, kati.email) == ("Kati Tamm", "kati.tamm@tallinn.example.eu")
    assert kati.check_password("bigbuyers-demo")
    assert not admin_events("user_updated")


def test_an_administrator_cannot_lock_themselves_out(client):
    admin = sign_in(client, "admin")
    html = assert_problem(post_form(client, f"/admin/people/{admin.id}", person_form(admin, active=None)),
                          "active")
    assert "You cannot deactivate your own account" in html

    html = assert_problem(post_form(client, f"/admin/people/{admin.id}", person_form(admin, roles=["buyer"])),
                          "roles")
    assert "You cannot remove your own administrator role" in html

    admin = person("admin")
    assert admin.active and admin.has_role(Role.ADMINISTRATOR)
    assert not admin_events("user_updated")


def test_a_group_lead_stays_an_active_buyer_until_replaced(client):
    sign_in(client, "admin")
    lukas = person("lukas")
    html = assert_problem(post_form(client, f"/admin/people/{lukas.id}", person_form(lukas, active=None)),
                          "active")
    assert "Lukas Berger leads Zero-emission construction sites" in html
    assert_problem(post_form(client, f"/admin/people/{lukas.id}", person_form(lukas, roles=["coordinator"])),
                   "roles")
    assert person("lukas").active


def test_organisations_are_listed_added_and_changed(client):
    admin = sign_in(client, "admin")
    html = loaded(client.get("/admin/organisations"))
    assert "City of Lisbon" in html and "Portugal" in html and "Central purchasing body" in html
    assert "Zero-emission construction sites" in html and "Circular ICT" in html

    response = post_form(client, "/admin/organisations/new",
                         {"name": "Stad Gent", "type": "city", "country": "BE"})
    assert response.status_code == 302
    gent = organisation("Stad Gent")
    assert (gent.type.value, gent.country) == ("city", "BE")

    response = post_form(client, f"/admin/organisations/{gent.id}",
                         {"name": "City of Ghent", "type": "city", "country": "BE"})
    assert response.status_code == 302
    assert organisation("City of Ghent").id == gent.id
    assert "City of Ghent" in loaded(client.get("/admin/organisations"))
    [added] = admin_events("organisation_added")
    [changed] = admin_events("organisation_updated")
    assert changed.actor_id == admin.id and "name Stad Gent → City of Ghent" in changed.summary


def test_an_organisation_must_be_in_the_eu_and_named_uniquely(client):
    sign_in(client, "admin")
    before = count(Organisation)
    html = assert_problem(post_form(client, "/admin/organisations/new",
                                    {"name": "Stadt Zürich", "type": "city", "country": "CH"}), "country")
    assert "Select an EU member state" in html
    html = assert_problem(post_form(client, "/admin/organisations/new", {
        "name": "consip", "type": "central_purchasing_body", "country": "IT"}), "name")
    assert "An organisation called Consip already exists" in html
    assert_problem(post_form(client, "/admin/organisations/new", {"name": ""}), "name", "type", "country")
    assert count(Organisation) == before

    lisbon = organisation("City of Lisbon")
    assert_problem(post_form(client, f"/admin/organisations/{lisbon.id}",
                             {"name": "City of Lisbon", "type": "city", "country": "UK"}), "country")
    assert organisation("City of Lisbon").country == "PT"
    assert not admin_events("organisation_added") and not admin_events("organisation_updated")


def test_working_groups_are_listed_added_and_changed(client):
    sign_in(client, "admin")
    html = loaded(client.get("/admin/groups"))
    assert f"7 of {group_size_limit()}" in html and "3 of 7" in html
    assert "Lukas Berger" in html and "Construction machinery" in html

    marta = person("marta")
    response = post_form(client, "/admin/groups/new", {
        "name": "Clean heavy-duty vehicles", "sector": "Trucks and buses", "lead": str(marta.id)})
    assert response.status_code == 302
    vehicles = group("Clean heavy-duty vehicles")
    assert response.headers["Location"].endswith(f"/admin/groups/{vehicles.id}/members")
    assert vehicles.lead_id == marta.id and vehicles.memberships == []

    kati = person("kati")
    response = post_form(client, f"/admin/groups/{vehicles.id}",
                         {"name": "Clean heavy-duty vehicles", "sector": "Buses", "lead": str(kati.id)})
    assert response.status_code == 302
    vehicles = group("Clean heavy-duty vehicles")
    assert (vehicles.sector, vehicles.lead_id) == ("Buses", kati.id)
    assert len(admin_events("group_added")) == 1
    [changed] = admin_events("group_updated")
    assert "lead Marta Nowak → Kati Tamm" in changed.summary


def test_a_group_needs_a_name_a_unique_name_and_a_buyer_as_lead(client):
    sign_in(client, "admin")
    before = count(WorkingGroup)
    assert_problem(post_form(client, "/admin/groups/new", {"name": "", "sector": ""}),
                   "name", "sector", "lead")
    html = assert_problem(post_form(client, "/admin/groups/new", {
        "name": "Circular ICT", "sector": "ICT", "lead": str(person("ana").id)}), "name")
    assert "A working group called Circular ICT already exists" in html
    html = assert_problem(post_form(client, "/admin/groups/new", {
        "name": "Canteens", "sector": "Food", "lead": str(person("clara").id)}), "lead")
    assert "Select the group lead from the list of buyers" in html
    assert count(WorkingGroup) == before
    assert not admin_events("group_added")


def test_members_are_added_and_removed(client):
    sign_in(client, "admin")
    ict = group("Circular ICT")
    html = loaded(client.get(f"/admin/groups/{ict.id}/members"))
    assert "3 of 7 members" in html
    assert ">Tallinn City (Estonia)</option>" in html
    assert ">City of Lisbon (Portugal)</option>" not in html  # already a member
    assert "ICLEI Europe" not in html  # the secretariat does not join groups

    tallinn = organisation("Tallinn City")
    response = post_form(client, f"/admin/groups/{ict.id}/members", {"organisation": str(tallinn.id)})
    assert response.status_code == 302
    html = loaded(client.get(response.headers["Location"]))
    assert "Tallinn City is now a member of Circular ICT" in html
    assert tallinn in group("Circular ICT").organisations

    gdansk = organisation("City of Gdańsk")
    response = client.post(f"/admin/groups/{ict.id}/members/{gdansk.id}/remove",
                           data={"csrf_token": csrf_token(client, f"/admin/groups/{ict.id}/members")})
    assert response.status_code == 302
    assert {o.name for o in group("Circular ICT").organisations} == {"City of Lisbon", "Gemeente Utrecht",
                                                                    "Tallinn City"}
    [added] = admin_events("group_member_added")
    [removed] = admin_events("group_member_removed")
    assert added.summary == "Tallinn City added to Circular ICT"
    assert removed.summary == "City of Gdańsk removed from Circular ICT"


def test_an_eighth_member_is_refused(client):
    sign_in(client, "admin")
    construction = group("Zero-emission construction sites")
    assert len(construction.memberships) == group_size_limit()
    html = loaded(client.get(f"/admin/groups/{construction.id}/members"))
    assert "the most a working group can have" in html
    assert 'name="organisation"' not in html  # no add form on a full group

    response = post_form(client, f"/admin/groups/{construction.id}/members",
                         {"organisation": str(organisation("Tallinn City").id)})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is a problem" in html
    assert "Zero-emission construction sites already has 7 members, the most a working group can have" in html
    assert len(group("Zero-emission construction sites").memberships) == group_size_limit()
    assert not admin_events("group_member_added")


def test_the_group_size_limit_is_the_onboarding_diagrams(client):
    """The onboarding diagram's flow_group_full condition is the one limit: raise it there, and
    the administrator may add an eighth member too."""
    [files] = [f for f in folder_file_sets(ROOT / "workflows") if "group_onboarding.bpmn" in f]
    files["group_onboarding.bpmn"] = files["group_onboarding.bpmn"].replace(
        "group_member_count &gt;= 7", "group_member_count &gt;= 8")
    store_version(files, person("admin"), note="groups of up to 8")
    db.session.commit()
    sign_in(client, "admin")
    construction = group("Zero-emission construction sites")
    assert "7 of 8 members" in client.get(f"/admin/groups/{construction.id}/members").get_data(as_text=True)

    response = post_form(client, f"/admin/groups/{construction.id}/members",
                         {"organisation": str(organisation("Tallinn City").id)})
    assert response.status_code == 302
    assert len(group("Zero-emission construction sites").memberships) == 8
    assert "8 of 8" in client.get("/admin/groups").get_data(as_text=True)


def test_a_form_without_its_csrf_token_changes_nothing(client):
    sign_in(client, "admin")
    kati = person("kati")
    ict = group("Circular ICT")
    lisbon = organisation("City of Lisbon")
    attempts = [
        ("/admin/people/new", {"name": "Forged", "email": "forged@example.eu", "organisation": str(lisbon.id),
                               "roles": ["administrator"]}),
        (f"/admin/people/{kati.id}", person_form(kati, roles=["administrator"])),
        ("/admin/organisations/new", {"name": "Forged", "type": "city", "country": "BE"}),
        (f"/admin/groups/{ict.id}", {"name": "Forged", "sector": "Forged", "lead": str(kati.id)}),
        (f"/admin/groups/{ict.id}/members", {"organisation": str(organisation("Tallinn City").id)}),
        (f"/admin/groups/{ict.id}/members/{lisbon.id}/remove", {}),
    ]
    for url, data in attempts:
        response = client.post(url, data=data)
        assert response.status_code == 400, url
        assert "The form had expired" in response.get_data(as_text=True)
    assert person("forged") is None
    assert person("kati").roles == {Role.BUYER}
    assert organisation("Forged") is None
    assert group("Circular ICT").name == "Circular ICT"
    assert {o.name for o in group("Circular ICT").organisations} == {"City of Lisbon", "City of Gdańsk",
                                                                    "Gemeente Utrecht"}
    assert not db.session.scalars(select(AuditEvent).where(AuditEvent.channel == "admin")).all()


def test_error_pages_keep_the_form_accessible(client):
    """Each error is tied to its field: the summary links to it and the field points to its message."""
    sign_in(client, "admin")
    html = assert_problem(post_form(client, "/admin/people/new", {"name": ""}), "name", "roles")
    assert 'class="govuk-form-group govuk-form-group--error"' in html
    assert 'aria-describedby="field-name-error"' in html
    assert 'aria-describedby="field-roles-hint field-roles-error"' in html
    assert '<label class="govuk-label govuk-label--s" for="field-name">Full name</label>' in html
    assert 'id="field-roles" name="roles"' in html  # the summary's link lands on the first checkbox


def test_a_deactivated_person_no_longer_holds_waiting_tasks(app, client):
    """Tom leaves: the claim he and Clara were asked to check waits for Clara alone. Clara
    leaves too: it waits for nobody, Monitoring lists it as such, and once an administrator
    gives it to Felix it is his."""
    from html import unescape

    from tests.integration.test_travel_http import file_claim, ready_task

    claim = file_claim(app.test_client())
    sign_in(client, "admin")
    nobody = "/monitor/instances?waiting_role=nobody"
    assert f'href="/monitor/instances/{claim.id}"' not in loaded(client.get(nobody))

    tom = person("tom")
    response = post_form(client, f"/admin/people/{tom.id}", person_form(tom, active=None))
    assert response.status_code == 302
    page = unescape(loaded(client.get(response.headers["Location"])))
    assert f"Check claim of “{claim.title}” now waits for Clara Schmidt" in page
    check = ready_task(claim, "check_claim")
    assert [c.user_id for c in check.candidates] == [person("clara").id]

    clara = person("clara")
    response = post_form(client, f"/admin/people/{clara.id}", person_form(clara, active=None))
    page = unescape(loaded(client.get(response.headers["Location"])))
    assert f"Check claim of “{claim.title}” now waits for nobody: give it to someone" in page
    assert ready_task(claim, "check_claim").candidates == []
    listed = loaded(client.get(nobody))
    assert f'href="/monitor/instances/{claim.id}"' in listed
    history = unescape(loaded(client.get(f"/requests/{claim.id}")))
    assert "Tom Peeters was deactivated. Check claim" in history
    assert "Clara Schmidt was deactivated. Check claim" in history
    person("admin").language = "de"  # the same lines for a German reader, the diagram's step in German
    db.session.commit()
    history = unescape(loaded(client.get(f"/requests/{claim.id}")))
    assert f"Tom Peeters wurde deaktiviert. „Antrag prüfen“ von „{claim.title}“ wartet jetzt auf Clara Schmidt" \
        in history

    response = post_form(client, f"/monitor/tasks/{check.id}/reassign",
                         {"person": str(person("felix").id), "reason": "Clara and Tom have left."})
    assert response.status_code == 302
    assert [c.user_id for c in ready_task(claim, "check_claim").candidates] == [person("felix").id]
    assert f'href="/monitor/instances/{claim.id}"' not in loaded(client.get(nobody))
