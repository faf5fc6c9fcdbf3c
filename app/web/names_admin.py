"""Administration → Names in diagrams: what the user and group names of diagrams stand for."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from app.extensions import db
from app.models import NameMapping
from app.services import people

from .helpers import Errors, actor, admin_required, render_page, submit

bp = Blueprint("names_admin", __name__, url_prefix="/admin/names")


class NameMappingForm(FlaskForm):
    name = StringField(_l("Name in the diagram"), [
        DataRequired(_l("Enter the name the diagram uses")),
        Length(max=200, message=_l("The name must be 200 characters or fewer"))],
        description=_l("As the diagram writes it, for example management or demo. Capitals do not matter."))
    stands_for = SelectField(_l("Who it stands for"), [DataRequired(_l("Select who the name stands for"))],
                             validate_choice=False,
                             description=_l("A role or a group role names whoever holds it when a task opens."))

    def fill_choices(self) -> None:
        self.stands_for.choices = [SelectChoice("", _("Choose a role, a group role or a person"))] + [
            SelectChoice(meaning.value, meaning.label) for meaning in people.name_meanings()]

    def values(self) -> dict:
        return {"name": self.name.data, "stands_for": self.stands_for.data}


def _stands_for(mapping: NameMapping) -> str:
    if mapping.user_id is not None:
        return f"person:{mapping.user_id}"
    return f"{mapping.target.value}:{mapping.role}"


def _moved(lines: list[str]) -> None:
    if lines:
        flash(_("Waiting tasks moved: %(tasks)s.", tasks="; ".join(lines)), "info")


def _back() -> str:
    """Where to go after the change: the page that linked here (a validation report), or the list."""
    back = request.args.get("next", "")
    return back if back.startswith("/") and not back.startswith(("//", "/\\")) else url_for(".index")


@bp.route("/")
@admin_required
def index():
    return render_template("admin/names.html", mappings=people.all_name_mappings(), waiting=people.unmapped_names())


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def add():
    form = NameMappingForm(data={"name": request.args.get("name", "")[:200]})
    form.fill_choices()
    errors: Errors = []
    if form.is_submitted():
        saved, errors = submit(form, lambda: people.add_name_mapping(actor(), **form.values()), "name")
        if saved is not None:
            mapping, lines = saved
            flash(_("‘%(name)s’ now stands for %(meaning)s.", name=mapping.name, meaning=mapping.translated_meaning),
                  "success")
            _moved(lines)
            return redirect(_back())
    return render_page("admin/name_form.html", errors, form=form, mapping=None)


@bp.route("/<int:mapping_id>", methods=["GET", "POST"])
@admin_required
def edit(mapping_id: int):
    mapping = db.get_or_404(NameMapping, mapping_id)
    form = NameMappingForm(data={"name": mapping.name, "stands_for": _stands_for(mapping)})
    form.fill_choices()
    errors: Errors = []
    if form.is_submitted():
        saved, errors = submit(form, lambda: people.update_name_mapping(actor(), mapping, **form.values()), "name")
        if saved is not None:
            changed, lines = saved
            flash(_("Saved: ‘%(name)s’ stands for %(meaning)s.", name=changed.name,
                    meaning=changed.translated_meaning), "success")
            _moved(lines)
            return redirect(url_for(".index"))
    return render_page("admin/name_form.html", errors, form=form, mapping=mapping)


@bp.route("/<int:mapping_id>/remove", methods=["POST"])
@admin_required
def remove(mapping_id: int):
    mapping = db.get_or_404(NameMapping, mapping_id)
    name = mapping.name
    lines, errors = submit(FlaskForm(), lambda: people.remove_name_mapping(actor(), mapping))
    if errors:
        form = NameMappingForm(data={"name": mapping.name, "stands_for": _stands_for(mapping)})
        form.fill_choices()
        return render_page("admin/name_form.html", errors, form=form, mapping=mapping)
    flash(_("‘%(name)s’ is no longer mapped: tasks that use it wait for the administrators.", name=name), "success")
    _moved(lines or [])
    return redirect(url_for(".index"))
