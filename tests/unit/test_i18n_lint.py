"""The check that `make lint` runs: texts for people must be marked for translation."""

from __future__ import annotations

from jinja2 import Environment

from tests.i18n_lint import check_python, check_template, main, to_do

ENV = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)


def texts(problems) -> list[str]:
    return [text for _, _, text in problems]


def test_unmarked_template_text_and_attributes_are_caught():
    source = """<h1 class="govuk-heading-l">Your settings</h1>
<nav aria-label="Main"><a href="{{ url }}" title="{{ _('Fine') }}">{{ name }}</a></nav>
<img src="x.png" alt="The diagram">
<input type="submit" value="Send it">
{% if error %}<p>There is a problem</p>{% else %}{{ 'Success' if ok else 'failed' }}{% endif %}
{% set hint = 'For example, 2 3 2027' %}
{% for value, label in [('each', 'An email for each task')] %}{{ label }}{% endfor %}
<script>const words = "not for people";</script>"""
    found = check_template("t.html", source, ENV)
    assert texts(found) == ["Success", "For example, 2 3 2027", "An email for each task", "Your settings",
                            "Main", "The diagram", "Send it", "There is a problem"]
    assert [line for _, line, _ in found] == [5, 6, 7, 1, 2, 3, 4, 5]


def test_marked_template_text_and_opt_outs_pass():
    source = """<h1 class="govuk-heading-l">{{ _("Your settings") }}</h1>
<nav aria-label="{{ _('Main') }}"><a class="govuk-link" href="{{ url_for('tasks.inbox') }}">{{ name }}</a></nav>
<p>{% trans trimmed count=n %}One task{% pluralize %}{{ count }} tasks{% endtrans %} – {{ n }}</p>
{{ 'field-' ~ name if loop.first else 'other' }} {{ _('Saved') if ok else ngettext('%(num)d day', '%(num)d days', n) }}
<p>Big Buyers Workflow</p>{# no-i18n: the service's name #}
{{ date_input(name, _('First day away')) }}"""
    assert check_template("t.html", source, ENV) == []


def test_email_text_templates_are_all_text():
    source = "{% block subject %}Waiting for you{% endblock %}\n{% block body %}{{ _('Dear %(name)s,', name=n) }}\n"
    source += "- {{ label }}: {{ value }}\n{% endblock %}"
    assert texts(check_template("e.txt", source, ENV)) == ["Waiting for you"]


def test_unmarked_python_strings_for_people_are_caught():
    source = '''
from flask import abort, flash
from wtforms import StringField, RadioField
from wtforms.validators import DataRequired, Length

class Form:
    name = StringField("Name", [DataRequired("Enter your name"), Length(max=9, message=f"At most {9}")],
                       description="As on your passport.")
    kind = RadioField(_l("Kind"), choices=[("a", "Apples"), ("b", _l("Bananas"))])

def view(who):
    flash(f"Saved for {who}.", "success")
    abort(404, description="No such request")
    raise ServiceError("Select a language")
'''
    assert sorted((line, text) for _, line, text in check_python("v.py", source)) == [
        (7, "'Enter your name'"), (7, "'Name'"), (7, "f'At most {9}'"), (8, "'As on your passport.'"),
        (9, "'Apples'"), (12, "f'Saved for {who}.'"), (13, "'No such request'"), (14, "'Select a language'")]


def test_marked_python_strings_and_opt_outs_pass():
    source = '''
from flask_babel import gettext as _, lazy_gettext as _l

class Form:
    name = StringField(_l("Name"), [DataRequired(_l("Enter your name"))], description=_l("As on your passport."))

def view(who, message):
    flash(_("Saved for %(who)s.", who=who), "success")
    flash(message)
    abort(404)
    raise ServiceError("internal: never shown")  # no-i18n: written to the log only
    flash("key_only")
'''
    assert texts(check_python("v.py", source)) == ["'key_only'"]  # a word is a word, even without a space


def test_the_project_passes_apart_from_the_files_still_to_do(capsys):
    assert main([]) == 0, capsys.readouterr().out
    for done in ("templates/profile.html", "app/web/profile.py", "templates/email/task.txt",
                 "app/outbox/compose.py", "forms/text.py", "app/locale.py"):
        assert done not in to_do()
