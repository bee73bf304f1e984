"""All models, imported here so Alembic and the app see every table."""
from .audit import AuditEvent
from .changes import ChangeMarker
from .conflicts import ConflictDeclaration, DomainFlagDecision, FormerMembership
from .challenges import (
    Authority, Challenge, ChallengeCriterion, ChallengeQuestion, ChallengeStatus, Topic,
    challenge_topics,
)
from .editing import EditSnapshot
from .content import (
    PAGE_SLUGS, AccessibilityFeedback, FeedbackStatus, PlatformSetting, SignLanguageVideo, SitePage,
)
from .identities import ExternalIdentity
from .mail import OutboxMail
from .mfa import RecoveryCode, SecondFactor
from .organisations import Invitation, MemberRole, Membership, Organisation, OrganisationKind
from .proposals import (
    CONTENT_FIELDS, PILOT_STATES, Attachment, Decision, DecisionState, Proposal, ProposalAnswer,
    ProposalVersion, ReferenceCounter, Status, TimelineEntry, proposal_topics,
)
from .consents import TermsConsent
from .receipts import FormReceipt
from .retention import RetentionNotice
from .reviews import (
    CRITERIA, Check, CheckCondition, CheckKind, CheckOutcome, Recommendation, Review,
    ReviewAssignment, ReviewScore,
)
from .notifications import Delivery, Notification, NotificationPreference
from .pilots import (
    Document, DocumentVersion, GoalResult, Message, Milestone, MilestoneStatus, PilotGoal,
    PilotMute, ReportRecommendation, ReportStatus, ResultsReport,
)
from .privacy import DataExport, ExportStatus
from .security import MailSend, SignInThrottle
from .users import (
    ADMIN_SOURCE, PendingRoleGrant, Role, User, UserRole, UserSession, provider_source,
)

__all__ = [
    "Decision", "DecisionState",
    "AuditEvent", "Authority", "Challenge", "ChallengeCriterion", "ReviewScore",
    "ChallengeQuestion", "ProposalAnswer",
    "ChallengeStatus", "Topic", "challenge_topics",
    "PAGE_SLUGS", "PlatformSetting", "SitePage", "OutboxMail", "Invitation", "MemberRole",
    "Membership",
    "Organisation", "OrganisationKind", "CONTENT_FIELDS", "PILOT_STATES", "Attachment", "Proposal",
    "ProposalVersion", "ReferenceCounter", "Status", "TimelineEntry", "proposal_topics", "CRITERIA",
    "Check", "CheckCondition", "CheckKind", "CheckOutcome", "Recommendation", "Review",
    "ReviewAssignment", "Role",
    "User", "UserRole", "Delivery", "Notification", "NotificationPreference", "Document",
    "DocumentVersion", "GoalResult", "Message", "Milestone", "MilestoneStatus", "PilotGoal",
    "PilotMute",
    "ReportRecommendation", "ReportStatus", "ResultsReport", "ExternalIdentity", "FormReceipt",
    "EditSnapshot", "ADMIN_SOURCE", "PendingRoleGrant", "provider_source", "MailSend",
    "SignInThrottle", "RetentionNotice", "DataExport", "ExportStatus", "TermsConsent",
    "RecoveryCode", "SecondFactor", "AccessibilityFeedback", "FeedbackStatus", "SignLanguageVideo",
    "ConflictDeclaration", "DomainFlagDecision", "FormerMembership",
    "UserSession", "ChangeMarker",
]
