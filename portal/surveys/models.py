"""Renewal-willingness surveys (DESIGN.md §5): questions, one current response per household, history."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Optional

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.time import utcnow
from portal.extensions import db

if TYPE_CHECKING:
    from portal.accounts.models import User
    from portal.areas.models import Estate, Household, Street


class MatterType(str, enum.Enum):
    major = "major"
    ordinary = "ordinary"

    @property
    def label(self) -> str:
        return MATTER_LABELS[self]


MATTER_LABELS = {
    MatterType.major: "重大事项（改建重建、加装电梯、改造工程、使用维修资金、改变共有部分用途）",
    MatterType.ordinary: "一般事项",
}
MATTER_RULES = {
    MatterType.major: "参与表决的专有面积和人数均达到四分之三以上同意",
    MatterType.ordinary: "参与表决的专有面积和人数均超过半数同意",
}


class TallyScope(str, enum.Enum):
    estate = "estate"
    building = "building"
    unit = "unit"

    @property
    def label(self) -> str:
        return {"estate": "整个小区", "building": "按楼栋", "unit": "按单元"}[self.value]


class QuestionKind(str, enum.Enum):
    single = "single"
    multiple = "multiple"
    scale = "scale"
    text = "text"
    consent = "consent"

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS = {
    QuestionKind.single: "单选题",
    QuestionKind.multiple: "多选题",
    QuestionKind.scale: "打分题（1–5 分）",
    QuestionKind.text: "意见建议（填空）",
    QuestionKind.consent: "表决题（同意/不同意/弃权）",
}
# The consent question's options are fixed; their order is what answers store.
CONSENT_OPTIONS = [("yes", "同意"), ("no", "不同意"), ("abstain", "弃权")]
SCALE_VALUES = (1, 2, 3, 4, 5)


class Channel(str, enum.Enum):
    online = "online"
    paper = "paper"

    @property
    def label(self) -> str:
        return "线上" if self is Channel.online else "纸质"


class Survey(db.Model):
    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(16), unique=True)  # the public link /s/<slug>
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"), index=True)
    title: Mapped[str] = mapped_column(String(128))
    intro: Mapped[str] = mapped_column(Text, default="")
    matter_type: Mapped[MatterType] = mapped_column(
        db.Enum(MatterType, native_enum=False, length=16), default=MatterType.major)
    tally_scope: Mapped[TallyScope] = mapped_column(
        db.Enum(TallyScope, native_enum=False, length=16), default=TallyScope.estate)
    # Buildings ("3") or units ("3-2") the survey is limited to; empty means every one of the estates.
    scope_targets: Mapped[list[str]] = mapped_column(JSON, default=list)
    opens_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date)  # open through the whole of this local day
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    street: Mapped["Street"] = relationship()
    created_by: Mapped[Optional["User"]] = relationship()
    estate_links: Mapped[list["SurveyEstate"]] = relationship(
        back_populates="survey", cascade="all, delete-orphan")
    questions: Mapped[list["SurveyQuestion"]] = relationship(
        back_populates="survey", cascade="all, delete-orphan", order_by="SurveyQuestion.position")

    @classmethod
    def street_clause(cls, street_id: int):
        return cls.street_id == street_id

    @property
    def estates(self) -> list["Estate"]:
        return sorted((link.estate for link in self.estate_links), key=lambda e: (e.name, e.id))

    @property
    def estate_ids(self) -> list[int]:
        return [e.id for e in self.estates]

    def status(self, today: date) -> str:
        if today < self.opens_on:
            return "not_started"
        if today > self.closes_on:
            return "closed"
        return "open"


STATUS_LABELS = {"not_started": "未开始", "open": "进行中", "closed": "已截止"}


class SurveyEstate(db.Model):
    __tablename__ = "survey_estates"

    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), primary_key=True, index=True)

    survey: Mapped[Survey] = relationship(back_populates="estate_links")
    estate: Mapped["Estate"] = relationship()


class SurveyQuestion(db.Model):
    __tablename__ = "survey_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[QuestionKind] = mapped_column(db.Enum(QuestionKind, native_enum=False, length=16))
    text: Mapped[str] = mapped_column(String(500))
    required: Mapped[bool] = mapped_column(default=True)
    # single/multiple: [{"label", "category"?, "theme"?}]; scale: [{"label": 1分的说明}, {"label": 5分的说明}]
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    max_choices: Mapped[Optional[int]]

    survey: Mapped[Survey] = relationship(back_populates="questions")

    @property
    def choice_labels(self) -> list[str]:
        if self.kind == QuestionKind.consent:
            return [label for _, label in CONSENT_OPTIONS]
        if self.kind == QuestionKind.scale:
            return [f"{v} 分" for v in SCALE_VALUES]
        return [o.get("label", "") for o in self.options or []]

    @property
    def scale_labels(self) -> tuple[str, str]:
        labels = [o.get("label", "") for o in (self.options or [])] + ["", ""]
        return labels[0] or "很不满意", labels[1] or "很满意"


class SurveyResponse(db.Model):
    """The CURRENT answers of one household to one survey: the unique constraint is the one-per-household rule."""
    __tablename__ = "survey_responses"
    __table_args__ = (UniqueConstraint("survey_id", "household_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), index=True)
    channel: Mapped[Channel] = mapped_column(db.Enum(Channel, native_enum=False, length=16))
    version: Mapped[int] = mapped_column(default=1)  # 1 + how many times it was replaced
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    entered_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))  # paper answers
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    survey: Mapped[Survey] = relationship()
    household: Mapped["Household"] = relationship()
    entered_by: Mapped[Optional["User"]] = relationship()
    answers: Mapped[list["SurveyAnswer"]] = relationship(
        back_populates="response", cascade="all, delete-orphan", order_by="SurveyAnswer.question_id")


class SurveyAnswer(db.Model):
    """One question's answer in a current response; its id is the demand signals' record id."""
    __tablename__ = "survey_answers"
    __table_args__ = (UniqueConstraint("response_id", "question_id"),
                      Index("ix_survey_answers_survey_question", "survey_id", "question_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("survey_responses.id", ondelete="CASCADE"))
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("survey_questions.id", ondelete="CASCADE"))
    choices: Mapped[list[int]] = mapped_column(JSON, default=list)  # option indexes (single, multiple, consent)
    number: Mapped[Optional[int]]  # scale 1–5
    text: Mapped[Optional[str]] = mapped_column(Text)  # free text
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)  # free text, tagged
    urgent: Mapped[bool] = mapped_column(default=False)
    needs_review: Mapped[bool] = mapped_column(default=False)
    tags_confirmed: Mapped[bool] = mapped_column(default=False)
    model_version: Mapped[Optional[str]] = mapped_column(String(64))

    response: Mapped[SurveyResponse] = relationship(back_populates="answers")
    question: Mapped[SurveyQuestion] = relationship()


class SurveyResponseVersion(db.Model):
    """An earlier response that a later one replaced: the history is kept, never overwritten."""
    __tablename__ = "survey_response_versions"
    __table_args__ = (UniqueConstraint("response_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("survey_responses.id", ondelete="CASCADE"))
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    version: Mapped[int]
    channel: Mapped[Channel] = mapped_column(db.Enum(Channel, native_enum=False, length=16))
    submitted_at: Mapped[datetime]
    entered_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    replaced_at: Mapped[datetime] = mapped_column(default=utcnow)
    answers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
