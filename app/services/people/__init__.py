"""People, organisations and working groups.

``accounts`` holds people, ``invitations`` the emailed links with which they choose a password,
``organisations`` the organisations they work for, ``groups`` the working groups and their
members, ``names`` what the user and group names of diagrams stand for; ``admin`` what every
administrator's function does alike.
"""

from .accounts import (
    MIN_PASSWORD_LENGTH,
    create_user,
    find_user,
    release_waiting_tasks,
    search_users,
    set_language,
    set_notify_mode,
    update_user,
)
from .admin import recent_admin_events
from .groups import (
    add_group,
    add_group_member,
    all_groups,
    create_group,
    group_size_limit,
    join_group,
    possible_leads,
    possible_members,
    remove_group_member,
    update_group,
)
from .invitations import (
    change_password,
    check_link,
    find_link,
    has_administrator,
    invitation_days,
    invite_user,
    invite_user_from_cli,
    request_password_reset,
    send_invitation,
    set_password_by_link,
)
from .names import (
    Meaning,
    add_name_mapping,
    all_name_mappings,
    find_name_mapping,
    name_meanings,
    remove_name_mapping,
    unmapped_names,
    update_name_mapping,
)
from .organisations import (
    NON_BUYING_TYPES,
    add_organisation,
    all_organisations,
    create_organisation,
    find_organisation,
    update_organisation,
)
from .signins import (
    SignInRefused,
    check_sign_in,
    end_session,
    end_sessions,
    remember_duration,
    sign_out_everywhere,
    signed_in_user,
    start_session,
    touch_session,
)

__all__ = [
    "MIN_PASSWORD_LENGTH", "NON_BUYING_TYPES", "add_group", "add_group_member", "add_organisation", "add_user",
    "all_groups", "all_organisations", "create_group", "create_organisation", "create_user", "find_organisation",
    "find_user", "group_size_limit", "join_group", "possible_leads", "possible_members", "recent_admin_events",
    "release_waiting_tasks", "remove_group_member", "search_users", "set_language", "set_notify_mode",
    "update_group", "update_organisation", "update_user",
    # names in diagrams
    "Meaning", "add_name_mapping", "all_name_mappings", "find_name_mapping", "name_meanings",
    "remove_name_mapping", "unmapped_names", "update_name_mapping",
    # signing in and out
    "SignInRefused", "check_sign_in", "end_session", "end_sessions", "remember_duration", "sign_out_everywhere",
    "signed_in_user", "start_session", "touch_session",
    # choosing a password from an emailed link
    "change_password", "check_link", "find_link", "has_administrator", "invitation_days", "invite_user",
    "invite_user_from_cli", "request_password_reset", "send_invitation", "set_password_by_link",
]

