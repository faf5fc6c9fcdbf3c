"""SQLAlchemy models, one aggregate per module."""

from .account_tokens import AccountToken, AccountTokenPurpose
from .instances import (
    Attachment,
    AuditEvent,
    HumanTask,
    InstanceStatus,
    ProcessInstance,
    RequestFigures,
    TaskCandidate,
    TaskState,
)
from .mail import ActionToken, OutboxMessage, OutboxStatus
from .meetings import Answer, Meeting, MeetingClaim, MeetingInvitee, MeetingMode, MeetingStatus
from .messages import MessageSubscription
from .names import GROUP_ROLES, ROLE_MEANINGS, NameMapping, NameTarget
from .people import (
    EU_COUNTRIES,
    GroupMembership,
    NotifyMode,
    Organisation,
    OrganisationType,
    Role,
    User,
    UserRole,
    WorkingGroup,
    eu_countries,
)
from .processes import ProcessDefinition, ProcessVersion
from .signins import FailedSignIn, SignIn
from .two_step import RecoveryCode, SecondFactor
from .uploads import PendingUpload

__all__ = [
    "Answer",
    "Meeting",
    "MeetingClaim",
    "MeetingInvitee",
    "MeetingMode",
    "MeetingStatus",
    "EU_COUNTRIES",
    "eu_countries",
    "AccountToken",
    "AccountTokenPurpose",
    "FailedSignIn",
    "SignIn",
    "ActionToken",
    "OutboxMessage",
    "OutboxStatus",
    "Attachment",
    "AuditEvent",
    "GROUP_ROLES",
    "ROLE_MEANINGS",
    "GroupMembership",
    "HumanTask",
    "InstanceStatus",
    "NameMapping",
    "NameTarget",
    "MessageSubscription",
    "NotifyMode",
    "Organisation",
    "OrganisationType",
    "PendingUpload",
    "ProcessDefinition",
    "ProcessInstance",
    "RequestFigures",
    "ProcessVersion",
    "RecoveryCode",
    "Role",
    "SecondFactor",
    "TaskCandidate",
    "TaskState",
    "User",
    "UserRole",
    "WorkingGroup",
]
