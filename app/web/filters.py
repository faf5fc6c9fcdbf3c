"""What every template may use: filters for dates, money and outcomes, paging, the header's count."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g, has_request_context
from flask_login import current_user
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, InstanceStatus, ProcessInstance, TaskCandidate
from app.outbox.shown import request_summary, request_title
from app.services.monitoring import error_text
from app.services.versions import load_model
from app.steps import event_line, outcome_label, status_word
from forms.text import format_date, format_figure, format_moment, format_money, format_number, format_share
from forms.translations import SOURCE_LANGUAGE, current_language, diagram_text


def init_app(app: Flask) -> None:
    app.add_template_filter(when)
    app.add_template_filter(money)
    app.add_template_filter(day)
    app.add_template_filter(format_number, "number")
    app.add_template_filter(outcome)
    app.add_template_filter(finished_as)
    app.add_template_filter(diagram)
    app.add_template_filter(request_title)  # {{ instance | request_title }}: in the page's (email's) language
    app.add_template_filter(request_summary)
    app.add_template_filter(figure)
    app.add_template_filter(history_line)
    app.add_template_filter(error_text)
    app.add_template_global(page_window)
    app.context_processor(navigation)


def when(moment: dt.datetime | None) -> str:
    """'26 Nov 2026, 14:05' in the display time zone, in the page's language (forms/text.py)."""
    if moment is None:
        return "—"
    return format_moment(moment, ZoneInfo(current_app.config["DISPLAY_TIMEZONE"]))


def money(value) -> str:
    return format_money(Decimal(str(value))) if value not in (None, "") else "—"


def figure(value, kind: str = "number"):
    """A report's cell as the page's language writes it, '—' for none, text as it is.

    ``kind`` (a report table's ``kind(column)``): "number" for counts and days ('1,234.5',
    '1.234,5'), "money" for amounts in EUR with their cents ('473.00 EUR', '473,00 €'),
    "share" for a percentage (12.5 reads '12.5%', '12,5 %')."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return value
    if kind == "money":
        return format_money(Decimal(str(value)).quantize(Decimal("0.01")))
    if kind == "share":
        return format_share(value)
    return format_figure(value)


def day(value) -> str:
    if value in (None, ""):
        return "—"
    return format_date(value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10]))


def diagram(text: str, instance: ProcessInstance | None) -> str:
    """A text of the request's diagram (a task's name) in the page's language:
    ``{{ task.name | diagram(task.instance) }}``. An English page reads no version row."""
    if current_language() == SOURCE_LANGUAGE:
        return text
    return diagram_text(getattr(instance, "version", None), text)  # an email's preview may have no request


def history_line(event: AuditEvent) -> str:
    """An administrators' history row (a version stored, a person added) in the page's language:
    ``{{ event | history_line }}``; a request's history comes as its entries' ``line``."""
    return event_line(event, None)


def outcome(instance: ProcessInstance) -> str:
    """How the end a finished request reached reads: its end event's name ('Claim paid')."""
    if not instance.outcome:
        return ""
    return diagram(outcome_label(instance.outcome, load_model(instance.version, instance.called)), instance)


def finished_as(instance: ProcessInstance) -> str:
    """A finished request's status word ('Paid'), '' for one not finished."""
    if instance.status != InstanceStatus.COMPLETED:
        return ""
    return diagram(status_word(instance.outcome, load_model(instance.version, instance.called)), instance)


def page_window(page: int, pages: int) -> list[int | None]:
    """Page numbers to show: the first, the last and two either side; None for a gap."""
    shown = sorted({1, pages, *range(max(page - 2, 1), min(page + 2, pages) + 1)})
    window: list[int | None] = []
    for number in shown:
        if window and number - window[-1] > 1:
            window.append(None)
        window.append(number)
    return window


def navigation():
    """``waiting_count`` for the header: the inbox sets it when it counted already."""
    waiting = g.get("waiting_count", 0) if has_request_context() else 0
    if has_request_context() and current_user.is_authenticated and "waiting_count" not in g:
        waiting = db.session.scalar(
            select(func.count()).select_from(TaskCandidate)
            .where(TaskCandidate.user_id == current_user.id, TaskCandidate.ready.is_(True))
        )
    return {"waiting_count": waiting}
