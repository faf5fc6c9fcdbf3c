"""Meetings of working groups: planning them, invitations and answers, attendance, the
travel claims that follow, and each group's page and year."""

from .access import is_coordinator, may_plan, may_record_attendance, may_see_group, visible_groups
from .attendance import (
    answer_by_token,
    answer_meeting,
    invitee_of,
    record_attendance,
    token_refusal,
    why_not_answer,
)
from .claims import attendance_record, claimable_meetings, meeting_attended, meeting_choices
from .groups import group_overview, queue_year_reminders, set_group_year
from .planning import (
    ANSWERS,
    ANSWERS_AFTER,
    MeetingDetails,
    calendar_for,
    cancel_meeting,
    change_meeting,
    check_details,
    plan_meeting,
)

__all__ = [
    "ANSWERS",
    "ANSWERS_AFTER",
    "MeetingDetails",
    "answer_by_token",
    "answer_meeting",
    "attendance_record",
    "calendar_for",
    "cancel_meeting",
    "change_meeting",
    "check_details",
    "claimable_meetings",
    "group_overview",
    "invitee_of",
    "is_coordinator",
    "may_plan",
    "may_record_attendance",
    "may_see_group",
    "meeting_attended",
    "meeting_choices",
    "plan_meeting",
    "queue_year_reminders",
    "record_attendance",
    "set_group_year",
    "token_refusal",
    "visible_groups",
    "why_not_answer",
]
