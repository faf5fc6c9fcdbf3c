"""Administration: people, organisations and working groups."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, InputRequired, Length

from app.errors import ServiceError
from app.extensions import db
from app.locale import language_name, languages, select_locale
from app.models import Organisation, OrganisationType, Role, User, WorkingGroup, eu_countries
from app.services import people

from .helpers import Errors, actor, admin_required, email_address, id_or_none, page_number, render_page, submit

bp = Blueprint("admin", __name__, url_prefix="/admin")

PEOPLE_PER_PAGE = 25


# --- Forms ------------------------------------------------------------------------------------
# Choices are checked by the services, which say which field is wrong in words a person can act
# on; WTForms' own "Not a valid choice" would not.


ROLE_HINTS = {
    Role.BUYER.value: _l("Staff of a member organisation: starts requests, can lead a working group"),
    Role.COORDINATOR.value: _l("Secretariat: reviews applications, events, expert requests and travel claims"),
    Role.FINANCE.value: _l("Secretariat finance officer: approves payments and larger budgets"),
    Role.COMMISSION.value: _l("DG GROW: signs off the largest budgets"),
    Role.ADMINISTRATOR.value: _l("Manages people, organisations, groups and process diagrams"),
}


class PersonForm(FlaskForm):
    name = StringField(_l("Full name"), [DataRequired(_l("Enter the person's full name")),
                                         Length(max=200, message=_l("The name must be 200 characters or fewer"))])
    email = EmailField(_l("Email address"), [DataRequired(_l("Enter an email address")), email_address,
                                             Length(max=254, message=_l("The email address is too long"))])
    organisation = SelectField(_l("Organisation"), [DataRequired(_l("Select the person's organisation"))],
                               coerce=id_or_none, validate_choice=False)
    roles = SelectMultipleField(_l("Roles"), [DataRequired(_l("Select at least one role"))],
                                description=_l("Select all that apply."), validate_choice=False)

    def fill_choices(self) -> None:
        self.roles.choices = [SelectChoice(role.value, role.translated) for role in Role]
        self.organisation.choices = [SelectChoice("", _("Choose an organisation"))] + [
            SelectChoice(str(o.id), o.name) for o in people.all_organisations()]

    def values(self) -> dict:
        return {"name": self.name.data, "email": self.email.data,
                "organisation_id": self.organisation.data, "roles": self.roles.data or []}


class NewPersonForm(PersonForm):
    """No password: the person chooses theirs from the invitation emailed to them, written in
    the language chosen here (the account's, until they choose another in their settings)."""

    language = RadioField(_l("Language"), validate_choice=False,
                          description=_l("The language of the invitation, and of their pages and emails until "
                                         "they choose another in their settings."))

    def fill_choices(self) -> None:
        super().fill_choices()
        self.language.choices = [SelectChoice(code, language_name(code)) for code in languages()]

    def values(self) -> dict:
        return super().values() | {"language": self.language.data}


class EditPersonForm(PersonForm):
    active = BooleanField(_l("This person can sign in"),
                          description=_l("Untick when someone leaves. Their requests and history stay."))

    def values(self) -> dict:
        return super().values() | {"active": self.active.data}


class InvitationForm(FlaskForm):
    """The button that emails a person a new link to choose their password (CSRF only)."""


class OrganisationForm(FlaskForm):
    name = StringField(_l("Name"), [DataRequired(_l("Enter the organisation's name")),
                                    Length(max=200, message=_l("The name must be 200 characters or fewer"))])
    type = RadioField(_l("Type of organisation"), [InputRequired(_l("Select the type of organisation"))],
                      validate_choice=False)
    country = SelectField(_l("Country"), [DataRequired(_l("Select the country"))], validate_choice=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.type.choices = [SelectChoice(kind.value, kind.translated) for kind in OrganisationType]
        self.country.choices = [SelectChoice("", _("Choose a country"))] + [
            SelectChoice(code, name) for code, name in eu_countries()]

    def values(self) -> dict:
        return {"name": self.name.data, "kind": self.type.data, "country": self.country.data}


class GroupForm(FlaskForm):
    name = StringField(_l("Name"), [DataRequired(_l("Enter the group's name")),
                                    Length(max=200, message=_l("The name must be 200 characters or fewer"))])
    sector = StringField(_l("Procurement sector"),
                         [DataRequired(_l("Enter the procurement sector")),
                          Length(max=200, message=_l("The sector must be 200 characters or fewer"))],
                         description=_l("For example, construction machinery or ICT equipment."))
    lead = SelectField(_l("Group lead"), [DataRequired(_l("Select the group lead"))], coerce=id_or_none,
                       validate_choice=False,
                       description=_l("An active buyer. The lead confirms new members and proposes events."))

    def fill_choices(self) -> None:
        self.lead.choices = [SelectChoice("", _("Choose a buyer"))] + [
            SelectChoice(str(u.id), f"{u.name} ({u.organisation.name})" if u.organisation else u.name)
            for u in people.possible_leads()]

    def values(self) -> dict:
        return {"name": self.name.data, "sector": self.sector.data, "lead_id": self.lead.data}


class MemberForm(FlaskForm):
    organisation = SelectField(_l("Organisation"), [DataRequired(_l("Select the organisation to add"))],
                               coerce=id_or_none, validate_choice=False)


# --- Pages -------------------------------------------------------------------------------------


@bp.route("/")
@admin_required
def index():
    return render_template("admin/index.html", events=people.recent_admin_events())


@bp.route("/people")
@admin_required
def users():
    query = request.args.get("q", "").strip()
    page = page_number()
    pagination = people.search_users(query, page, PEOPLE_PER_PAGE)
    return render_template("admin/users.html", pagination=pagination, query=query)


@bp.route("/people/new", methods=["GET", "POST"])
@admin_required
def add_user():
    form = NewPersonForm(data={"roles": [Role.BUYER.value], "language": select_locale()})  # the inviter's
    form.fill_choices()
    errors: Errors = []
    if form.is_submitted():
        user, errors = submit(form, lambda: people.invite_user(actor(), **form.values()), "email")
        if user is not None:
            flash(_("Added %(name)s. We are emailing %(email)s an invitation to choose a password; "
                    "its link works for %(days)s days.", name=user.name, email=user.email,
                    days=people.invitation_days()), "success")
            return redirect(url_for("admin.users", q=user.email))
    return render_page("admin/user_form.html", errors, form=form, user=None, role_hints=ROLE_HINTS)


def _person_page(user: User, form: EditPersonForm, errors: Errors):
    return render_page("admin/user_form.html", errors, form=form, user=user, role_hints=ROLE_HINTS,
                       invitation_form=InvitationForm())


@bp.route("/people/<int:user_id>", methods=["GET", "POST"])
@admin_required
def edit_user(user_id: int):
    user = db.get_or_404(User, user_id)
    form = EditPersonForm(data={
        "name": user.name, "email": user.email, "organisation": user.organisation_id,
        "roles": sorted(role.value for role in user.roles), "active": user.active})
    form.fill_choices()
    errors: Errors = []
    if form.is_submitted():
        saved, errors = submit(form, lambda: people.update_user(actor(), user, **form.values()), "name")
        if saved is not None:
            person, released = saved
            flash(_("Saved the changes to %(name)s.", name=person.name), "success")
            if released:
                flash(_("%(name)s no longer holds the tasks that waited for them: %(tasks)s.", name=person.name,
                        tasks="; ".join(released)), "info")
            return redirect(url_for("admin.users", q=person.email))
    return _person_page(user, form, errors)


@bp.route("/people/<int:user_id>/invitation", methods=["POST"])
@admin_required
def send_invitation(user_id: int):
    user = db.get_or_404(User, user_id)
    _sent, errors = submit(InvitationForm(), lambda: people.send_invitation(actor(), user))
    if errors:
        form = EditPersonForm(data={
            "name": user.name, "email": user.email, "organisation": user.organisation_id,
            "roles": sorted(role.value for role in user.roles), "active": user.active})
        form.fill_choices()
        return _person_page(user, form, errors)
    flash(_("We are emailing %(email)s a new link to choose a password; it works for %(days)s days, and any "
            "earlier link no longer works.", email=user.email, days=people.invitation_days()), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/organisations")
@admin_required
def organisations():
    return render_template("admin/organisations.html", organisations=people.all_organisations())


@bp.route("/organisations/new", methods=["GET", "POST"])
@admin_required
def add_organisation():
    form = OrganisationForm()
    errors: Errors = []
    if form.is_submitted():
        organisation, errors = submit(
            form, lambda: people.add_organisation(actor(), **form.values()), "name")
        if organisation is not None:
            flash(_("Added %(name)s.", name=organisation.name), "success")
            return redirect(url_for("admin.organisations"))
    return render_page("admin/organisation_form.html", errors, form=form, organisation=None)


@bp.route("/organisations/<int:organisation_id>", methods=["GET", "POST"])
@admin_required
def edit_organisation(organisation_id: int):
    organisation = db.get_or_404(Organisation, organisation_id)
    form = OrganisationForm(data={
        "name": organisation.name, "type": organisation.type.value, "country": organisation.country})
    errors: Errors = []
    if form.is_submitted():
        saved, errors = submit(
            form, lambda: people.update_organisation(actor(), organisation, **form.values()), "name")
        if saved is not None:
            flash(_("Saved the changes to %(name)s.", name=saved.name), "success")
            return redirect(url_for("admin.organisations"))
    return render_page("admin/organisation_form.html", errors, form=form, organisation=organisation)


@bp.route("/groups")
@admin_required
def groups():
    return render_template("admin/groups.html", groups=people.all_groups(), limit=people.group_size_limit())


@bp.route("/groups/new", methods=["GET", "POST"])
@admin_required
def add_group():
    form = GroupForm()
    form.fill_choices()
    errors: Errors = []
    if form.is_submitted():
        group, errors = submit(form, lambda: people.add_group(actor(), **form.values()), "name")
        if group is not None:
            flash(_("Added the working group %(name)s. Now add its member organisations.", name=group.name), "success")
            return redirect(url_for("admin.group_members", group_id=group.id))
    return render_page("admin/group_form.html", errors, form=form, group=None)


@bp.route("/groups/<int:group_id>", methods=["GET", "POST"])
@admin_required
def edit_group(group_id: int):
    group = db.get_or_404(WorkingGroup, group_id)
    form = GroupForm(data={
        "name": group.name, "sector": group.sector, "lead": group.lead_id})
    form.fill_choices()
    errors: Errors = []
    if form.is_submitted():
        saved, errors = submit(form, lambda: people.update_group(actor(), group, **form.values()), "name")
        if saved is not None:
            flash(_("Saved the changes to %(name)s.", name=saved.name), "success")
            return redirect(url_for("admin.groups"))
    return render_page("admin/group_form.html", errors, form=form, group=group)


def _members_page(group: WorkingGroup, form: MemberForm, errors: Errors):
    form.organisation.choices = [SelectChoice("", _("Choose an organisation"))] + [
        SelectChoice(str(o.id), f"{o.name} ({o.translated_country})") for o in people.possible_members(group)]
    return render_page("admin/group_members.html", errors, group=group, form=form, limit=people.group_size_limit())


@bp.route("/groups/<int:group_id>/members")
@admin_required
def group_members(group_id: int):
    return _members_page(db.get_or_404(WorkingGroup, group_id), MemberForm(), [])


@bp.route("/groups/<int:group_id>/members", methods=["POST"])
@admin_required
def add_member(group_id: int):
    group = db.get_or_404(WorkingGroup, group_id)
    form = MemberForm()
    membership, errors = submit(
        form, lambda: people.add_group_member(actor(), group, form.organisation.data), "organisation")
    if membership is None:
        return _members_page(group, form, errors)
    flash(_("%(organisation)s is now a member of %(group)s.", organisation=membership.organisation.name,
            group=group.name), "success")
    return redirect(url_for("admin.group_members", group_id=group.id))


@bp.route("/groups/<int:group_id>/members/<int:organisation_id>/remove", methods=["POST"])
@admin_required
def remove_member(group_id: int, organisation_id: int):
    group = db.get_or_404(WorkingGroup, group_id)
    organisation = db.get_or_404(Organisation, organisation_id)
    try:
        people.remove_group_member(actor(), group, organisation.id)
    except ServiceError as exc:
        db.session.rollback()
        return _members_page(group, MemberForm(), [(None, str(exc))])
    db.session.commit()
    flash(_("%(organisation)s is no longer a member of %(group)s.", organisation=organisation.name,
            group=group.name), "success")
    return redirect(url_for("admin.group_members", group_id=group.id))
