"""How the review queue reads and corrects each kind of tagged record.

Each source domain keeps its own confirm service (which checks scope, re-derives demand signals and
records the event); an adapter only lists that domain's pending records and calls that service.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional

from flask import url_for
from sqlalchemy import Select, select

from portal.accounts.models import Role
from portal.core.scoping import scoped, street_limit
from portal.demand.models import SignalSource
from portal.extensions import db

STAFF = (Role.street_staff, Role.district_admin)


@dataclass
class Item:
    """One record as the review queue shows it."""
    source: SignalSource
    record_id: str
    text: str
    themes: list[str]
    scores: dict[str, float]
    urgent: bool
    needs_review: bool
    place: str
    when: Optional[datetime]
    url: str
    model_version: Optional[str]
    street_id: Optional[int]
    flag_reasons: list[str] = field(default_factory=list)


class Adapter:
    source: SignalSource
    roles: tuple[Role, ...] = STAFF

    def pending(self, user) -> Select:
        """Records awaiting review, newest first, limited to what `user` may see."""
        raise NotImplementedError

    def get(self, record_id: str, user):
        raise NotImplementedError

    def item(self, record, user) -> Item:
        raise NotImplementedError

    def confirm(self, actor, record, themes: list[str], urgent: bool) -> None:
        raise NotImplementedError

    def street_of(self, record) -> Optional[int]:
        return record.street_id

    def training_text(self, record) -> str:
        raise NotImplementedError

    @staticmethod
    def _one(stmt: Select):
        return db.session.execute(stmt).scalar_one_or_none()


class TicketAdapter(Adapter):
    source = SignalSource.hotline
    roles = (Role.operator, Role.street_staff, Role.district_admin)

    def pending(self, user):
        from portal.tickets.models import Ticket, TicketStatus

        stmt = select(Ticket).where(Ticket.needs_review.is_(True), Ticket.status != TicketStatus.merged)
        return scoped(stmt, Ticket, user).order_by(Ticket.received_at.desc(), Ticket.id.desc())

    def get(self, record_id, user):
        from portal.tickets.models import Ticket

        if not str(record_id).isdigit():
            return None
        return self._one(scoped(select(Ticket).where(Ticket.id == int(record_id)), Ticket, user))

    def training_text(self, record):
        from portal.tickets.services import tag_text_of

        return tag_text_of(record)

    def item(self, record, user):
        from portal.core.masking import text_for

        return Item(self.source, str(record.id), text_for(user, self.training_text(record)), list(record.themes or []),
                    dict(record.theme_scores or {}), record.urgent, record.needs_review,
                    record.estate.name if record.estate else (record.address or "未定位"), record.received_at,
                    url_for("tickets.detail", ticket_id=record.id), record.model_version, record.street_id)

    def confirm(self, actor, record, themes, urgent):
        from portal.tickets.services import confirm_tags

        confirm_tags(actor, record, themes, urgent)


class SurveyAnswerAdapter(Adapter):
    source = SignalSource.survey

    def _stmt(self, user):
        from portal.surveys.models import Survey, SurveyAnswer

        stmt = select(SurveyAnswer).where(SurveyAnswer.text.is_not(None))
        limit = street_limit(user)
        if limit is not None:
            stmt = stmt.where(SurveyAnswer.survey_id.in_(select(Survey.id).where(Survey.street_id == limit)))
        return stmt

    def pending(self, user):
        from portal.surveys.models import SurveyAnswer

        return self._stmt(user).where(SurveyAnswer.needs_review.is_(True)).order_by(SurveyAnswer.id.desc())

    def get(self, record_id, user):
        from portal.surveys.models import SurveyAnswer

        if not str(record_id).isdigit():
            return None
        return self._one(self._stmt(user).where(SurveyAnswer.id == int(record_id)))

    def street_of(self, record):
        return record.response.survey.street_id

    def training_text(self, record):
        return record.text or ""

    def item(self, record, user):
        from portal.core.masking import text_for

        response = record.response
        return Item(self.source, str(record.id), text_for(user, record.text), list(record.themes or []), {},
                    record.urgent, record.needs_review, response.household.estate.name, response.submitted_at,
                    url_for("surveys.results", survey_id=record.survey_id), record.model_version,
                    self.street_of(record))

    def confirm(self, actor, record, themes, urgent):
        from portal.surveys.services import confirm_answer_tags

        confirm_answer_tags(actor, record, themes, urgent)


class MinutesPointAdapter(Adapter):
    source = SignalSource.minutes

    def _stmt(self, user):
        from portal.minutes.models import Meeting, MinutesPoint

        stmt = (select(MinutesPoint).join(Meeting, MinutesPoint.meeting_id == Meeting.id)
                .where(Meeting.points_saved_at.is_not(None)))
        return scoped(stmt, MinutesPoint, user)

    def pending(self, user):
        from portal.minutes.models import MinutesPoint

        return self._stmt(user).where(MinutesPoint.needs_review.is_(True)).order_by(MinutesPoint.id.desc())

    def get(self, record_id, user):
        from portal.minutes.models import MinutesPoint

        if not str(record_id).isdigit():
            return None
        return self._one(self._stmt(user).where(MinutesPoint.id == int(record_id)))

    def street_of(self, record):
        return record.meeting.street_id

    def training_text(self, record):
        return record.text

    def item(self, record, user):
        from portal.core.masking import text_for

        meeting = record.meeting
        place = "、".join(e.name for e in meeting.estates) or meeting.title
        return Item(self.source, str(record.id), text_for(user, record.text), list(record.themes or []),
                    dict(record.theme_scores or {}), record.urgent, record.needs_review, place,
                    datetime.combine(meeting.held_on, datetime.min.time()),
                    url_for("minutes.detail", meeting_id=meeting.id), record.model_version, meeting.street_id)

    def confirm(self, actor, record, themes, urgent):
        from portal.minutes.services import confirm_point_tags

        confirm_point_tags(actor, record, themes, urgent)


class SuggestionAdapter(Adapter):
    source = SignalSource.suggestion

    def pending(self, user):
        from portal.suggestions.models import Suggestion

        stmt = select(Suggestion).where(Suggestion.needs_review.is_(True))
        return scoped(stmt, Suggestion, user).order_by(Suggestion.created_at.desc(), Suggestion.id.desc())

    def get(self, record_id, user):
        from portal.suggestions.models import Suggestion

        if not str(record_id).isdigit():
            return None
        return self._one(scoped(select(Suggestion).where(Suggestion.id == int(record_id)), Suggestion, user))

    def training_text(self, record):
        return record.content

    def item(self, record, user):
        from portal.core.masking import text_for

        return Item(self.source, str(record.id), text_for(user, record.content), list(record.themes or []),
                    dict(record.theme_scores or {}), record.urgent, record.needs_review, record.estate.name,
                    record.created_at, url_for("suggestions.detail", suggestion_id=record.id), record.model_version,
                    record.street_id)

    def confirm(self, actor, record, themes, urgent):
        from portal.suggestions.services import confirm_tags

        confirm_tags(actor, record, themes, urgent)


ADAPTERS: dict[SignalSource, Adapter] = {a.source: a for a in (
    TicketAdapter(), SurveyAnswerAdapter(), MinutesPointAdapter(), SuggestionAdapter())}


def adapters_for(user) -> list[Adapter]:
    return [a for a in ADAPTERS.values() if user.role in a.roles]
