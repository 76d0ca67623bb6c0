"""Imports every domain's models so SQLAlchemy and Alembic see the whole schema."""
from portal.accounts.models import Role, User  # noqa: F401
from portal.areas.models import Community, Estate, Household, Occupancy, Street  # noqa: F401
from portal.audit.models import Event  # noqa: F401
from portal.demand.models import DemandDailyCount, DemandMonthlyCount, DemandSignal, DemandStreetDailyCount  # noqa: F401
from portal.jobs.models import Job  # noqa: F401
from portal.tickets.models import HeaderMapping, Ticket, TicketTheme  # noqa: F401
from portal.api.models import ApiKey  # noqa: F401
from portal.surveys.models import Survey, SurveyAnswer, SurveyEstate, SurveyQuestion, SurveyResponse, SurveyResponseVersion  # noqa: F401
from portal.minutes.models import Meeting, MeetingAction, MinutesPoint, meeting_estates  # noqa: F401
from portal.suggestions.models import Suggestion  # noqa: F401
from portal.review.models import ReviewFlag, TagCorrection, ThemeModel  # noqa: F401
from portal.projects.models import Project, ProjectEstate, ProjectScore, ProjectTheme, WeightSet  # noqa: F401
