"""Meeting operations (DESIGN.md §3). Each checks the actor's scope and records an event."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Optional, Sequence

from sqlalchemy import select
from werkzeug.exceptions import Forbidden

from portal.accounts.models import Role
from portal.areas.models import Estate
from portal.areas.services import estates_of_one_street
from portal.audit.services import record_event, snapshot
from portal.core.errors import ServiceError
from portal.core.scoping import can_act_on_street
from portal.core.time import utcnow
from portal.core.workdays import to_local, to_utc_naive
from portal.demand.models import SignalSource
from portal.review.services import record_correction
from portal.demand.services import SignalInput, replace_many, replace_signals, reporter_key
from portal.extensions import db
from portal.minutes import parsing, tags
from portal.minutes.models import Meeting, MeetingAction, MeetingKind, MinutesPoint
from portal.minutes.parsing import MAX_POINT_CHARS, MAX_POINTS, MAX_SPEAKER_CHARS, MinutesError, ParsedPoint

MEETING_FIELDS = ["kind", "title", "held_on", "attendee_count", "organiser", "location", "estate_ids"]
ACTION_FIELDS = ["description", "owner", "due_on", "done_at"]
EDITORS = (Role.street_staff, Role.district_admin)
MAX_OUTCOMES_CHARS = 5000
MAX_ATTENDEES = 100000


def _require_editor(actor, street_id: int) -> None:
    if actor is None or actor.role not in EDITORS or not can_act_on_street(actor, street_id):
        raise Forbidden()


def today_local() -> date:
    return to_local(utcnow()).date()


@dataclass
class MeetingInput:
    kind: MeetingKind
    title: str
    held_on: date
    estate_ids: Sequence[int]
    attendee_count: int
    organiser: str
    location: str = ""


def _validate(data: MeetingInput) -> None:
    if not isinstance(data.kind, MeetingKind):
        raise ServiceError("请选择会议类型。")
    if not (data.title or "").strip():
        raise ServiceError("请填写会议名称。")
    if len(data.title.strip()) > 128:
        raise ServiceError("会议名称过长（最多 128 字）。")
    if not (data.organiser or "").strip():
        raise ServiceError("请填写组织者。")
    if len(data.organiser.strip()) > 64 or len((data.location or "").strip()) > 128:
        raise ServiceError("组织者或地点过长。")
    if data.held_on is None:
        raise ServiceError("请填写会议日期。")
    if data.held_on > today_local():
        raise ServiceError("会议日期不能晚于今天：纪要只能在会后录入。")
    if data.held_on < date(2000, 1, 1):
        raise ServiceError("会议日期有误（早于 2000 年）。")
    if data.attendee_count is None or not 0 <= data.attendee_count <= MAX_ATTENDEES:
        raise ServiceError(f"参会人数应在 0–{MAX_ATTENDEES} 之间。")


def _estates(actor, estate_ids: Sequence[int]) -> tuple[int, list[Estate]]:
    street_id, estates = estates_of_one_street(
        estate_ids, "一次会议的小区必须属于同一个街道；不同街道的会议请分别登记。")
    if actor.role not in EDITORS:
        raise Forbidden()
    if not can_act_on_street(actor, street_id):
        raise ServiceError("只能选择本街道的小区。")
    return street_id, estates


def read_minutes(filename: Optional[str], data: Optional[bytes], pasted: Optional[str]) -> tuple[str, list[ParsedPoint]]:
    try:
        return parsing.parse_minutes(filename, data, pasted)
    except MinutesError as exc:
        raise ServiceError(exc.message) from exc


def create_meeting(actor, data: MeetingInput, *, filename: Optional[str] = None, file_data: Optional[bytes] = None,
                   pasted: Optional[str] = None) -> Meeting:
    """Record a meeting and its raw minutes; the split is reviewed next (see save_points)."""
    _validate(data)
    street_id, estates = _estates(actor, data.estate_ids)
    text, _ = read_minutes(filename, file_data, pasted)  # refuse minutes with nothing to split now
    meeting = Meeting(street_id=street_id, kind=data.kind, title=data.title.strip(), held_on=data.held_on,
                      attendee_count=data.attendee_count, organiser=data.organiser.strip(),
                      location=(data.location or "").strip(), minutes_text=text,
                      source_filename=(filename or None) and filename[:256], created_by_id=getattr(actor, "id", None))
    meeting.estates = estates
    db.session.add(meeting)
    db.session.flush()
    record_event(actor, "meeting.create", meeting, after=snapshot(meeting, MEETING_FIELDS),
                 note=f"纪要来源：{filename or '粘贴文字'}，{len(text)} 字")
    db.session.commit()
    return meeting


def update_meeting(actor, meeting: Meeting, data: MeetingInput) -> Meeting:
    _require_editor(actor, meeting.street_id)
    _validate(data)
    street_id, estates = _estates(actor, data.estate_ids)
    if street_id != meeting.street_id:
        raise ServiceError("会议的小区只能在本街道内调整。")
    before = snapshot(meeting, MEETING_FIELDS)
    meeting.kind, meeting.title, meeting.held_on = data.kind, data.title.strip(), data.held_on
    meeting.attendee_count, meeting.organiser = data.attendee_count, data.organiser.strip()
    meeting.location = (data.location or "").strip()
    meeting.estates = estates
    db.session.flush()
    sync_signals(meeting)  # estates and date are part of every point's signals
    record_event(actor, "meeting.update", meeting, before=before, after=snapshot(meeting, MEETING_FIELDS))
    db.session.commit()
    return meeting


def draft_points(meeting: Meeting) -> list[ParsedPoint]:
    """What the review page starts from: the saved points, else a fresh split of the minutes."""
    if meeting.points:
        return [ParsedPoint(p.text, p.speaker, "speaker" if p.speaker else "paragraph") for p in meeting.points]
    return resplit(meeting)


def resplit(meeting: Meeting) -> list[ParsedPoint]:
    is_docx = (meeting.source_filename or "").lower().endswith(".docx")
    return parsing.split_points(meeting.minutes_text or "", join_wrapped_lines=not is_docx)


def occurred_at(meeting: Meeting) -> datetime:
    """A meeting's points count on its (local) date."""
    return to_utc_naive(datetime.combine(meeting.held_on, time()))


def point_signals(meeting: Meeting, point: MinutesPoint) -> list[SignalInput]:
    """One signal per theme for each of the meeting's estates, all from one reporter: this point."""
    reporter = reporter_key("meeting", f"{meeting.id}:{point.position}")
    return [SignalInput(estate_id=estate.id, theme=theme, occurred_at=occurred_at(meeting), reporter_key=reporter,
                        urgent=point.urgent, model_version=point.model_version)
            for theme in point.themes for estate in meeting.estates]


def sync_signals(meeting: Meeting, removed_point_ids: Sequence[int] = ()) -> None:
    db.session.flush()
    by_record = {str(i): [] for i in removed_point_ids}
    by_record.update({str(p.id): point_signals(meeting, p) for p in meeting.points})
    if by_record:
        replace_many(SignalSource.minutes, by_record)


def _clean_drafts(drafts: Sequence[ParsedPoint]) -> list[ParsedPoint]:
    cleaned = []
    for number, draft in enumerate(drafts, start=1):
        text = (draft.text or "").strip()
        speaker = (draft.speaker or "").strip() or None
        if not text:
            continue  # an emptied box is a deleted point
        if len(text) > MAX_POINT_CHARS:
            raise ServiceError(f"第 {number} 条过长（最多 {MAX_POINT_CHARS} 字），请拆分后再保存。")
        if speaker and len(speaker) > MAX_SPEAKER_CHARS:
            raise ServiceError(f"第 {number} 条的发言人过长（最多 {MAX_SPEAKER_CHARS} 字）。")
        cleaned.append(ParsedPoint(text, speaker, draft.kind))
    if not cleaned:
        raise ServiceError("没有可保存的条目：至少保留一条。")
    if len(cleaned) > MAX_POINTS:
        raise ServiceError(f"条目过多（最多 {MAX_POINTS} 条）。")
    return cleaned


def save_points(actor, meeting: Meeting, drafts: Sequence[ParsedPoint]) -> bool:
    """Replace the meeting's points with the reviewed split, tag them and count them as demand.
    Returns False when the theme model was unavailable (points kept untagged, marked for review)."""
    _require_editor(actor, meeting.street_id)
    points = _clean_drafts(drafts)
    # A point staff already tagged by hand keeps those tags if its text is unchanged.
    confirmed = {p.text: p for p in meeting.points if p.tags_confirmed}
    untagged = [d.text for d in points if d.text not in confirmed]
    results = tags.tag_many(untagged)
    by_text = dict(zip(untagged, results)) if results is not None else {}
    before = {"points": [p.text for p in meeting.points]}
    removed = [p.id for p in meeting.points]
    for old in list(meeting.points):
        db.session.delete(old)
    meeting.points = []
    db.session.flush()  # free the (meeting, position) slots before the new rows take them
    for position, draft in enumerate(points, start=1):
        point = MinutesPoint(meeting_id=meeting.id, position=position, speaker=draft.speaker, text=draft.text)
        kept = confirmed.get(draft.text)
        if kept is not None:
            point.themes, point.theme_scores, point.urgent = list(kept.themes), dict(kept.theme_scores), kept.urgent
            point.needs_review, point.tags_confirmed, point.model_version = False, True, kept.model_version
        else:
            tags.apply_result(point, by_text.get(draft.text))
        meeting.points.append(point)
    meeting.points_saved_at = utcnow()
    sync_signals(meeting, removed)
    record_event(actor, "meeting.points.save", meeting, before=before,
                 after={"points": [p.text for p in points]}, note=f"{len(points)} 条")
    db.session.commit()
    return results is not None


def confirm_point_tags(actor, point: MinutesPoint, themes: Sequence[str], urgent: bool) -> MinutesPoint:
    meeting = point.meeting
    _require_editor(actor, meeting.street_id)
    before, after, corrected = tags.confirm(point, themes, urgent)
    replace_signals(SignalSource.minutes, point.id, point_signals(meeting, point))
    record_event(actor, "meeting.point.tags.correct" if corrected else "meeting.point.tags.confirm", point,
                 street_id=meeting.street_id, before=before, after=after, note=point.text[:2000] if corrected else None)
    record_correction(actor, SignalSource.minutes, point.id, point.text, before, after, meeting.street_id,
                      point.model_version)
    db.session.commit()
    return point


def close_meeting(actor, meeting: Meeting, outcomes: str) -> Meeting:
    """The closing record: what the meeting agreed. Can be amended; the first save dates it."""
    _require_editor(actor, meeting.street_id)
    outcomes = (outcomes or "").strip()
    if not outcomes:
        raise ServiceError("请填写会议结论。")
    if len(outcomes) > MAX_OUTCOMES_CHARS:
        raise ServiceError(f"会议结论过长（最多 {MAX_OUTCOMES_CHARS} 字）。")
    before = {"outcomes": meeting.outcomes}
    meeting.outcomes = outcomes
    meeting.closed_at = meeting.closed_at or utcnow()
    record_event(actor, "meeting.close", meeting, before=before, after={"outcomes": outcomes})
    db.session.commit()
    return meeting


def add_action(actor, meeting: Meeting, description: str, owner: str, due_on: Optional[date]) -> MeetingAction:
    _require_editor(actor, meeting.street_id)
    description, owner = (description or "").strip(), (owner or "").strip()
    if not description:
        raise ServiceError("请填写要落实的事项。")
    if not owner:
        raise ServiceError("请填写责任人或责任单位。")
    if len(description) > 500 or len(owner) > 64:
        raise ServiceError("事项（最多 500 字）或责任人（最多 64 字）过长。")
    if due_on is None:
        raise ServiceError("请填写完成期限。")
    if due_on < meeting.held_on:
        raise ServiceError("完成期限不能早于会议日期。")
    action = MeetingAction(meeting_id=meeting.id, description=description, owner=owner, due_on=due_on)
    db.session.add(action)
    db.session.flush()
    record_event(actor, "meeting.action.add", action, street_id=meeting.street_id,
                 after=snapshot(action, ACTION_FIELDS))
    db.session.commit()
    return action


def set_action_done(actor, action: MeetingAction, done: bool) -> MeetingAction:
    _require_editor(actor, action.meeting.street_id)
    before = snapshot(action, ACTION_FIELDS)
    action.done_at = (action.done_at or utcnow()) if done else None
    record_event(actor, "meeting.action.done" if done else "meeting.action.reopen", action,
                 street_id=action.meeting.street_id, before=before, after=snapshot(action, ACTION_FIELDS))
    db.session.commit()
    return action


def delete_action(actor, action: MeetingAction) -> None:
    meeting = action.meeting
    _require_editor(actor, meeting.street_id)
    record_event(actor, "meeting.action.delete", action, street_id=meeting.street_id,
                 before=snapshot(action, ACTION_FIELDS))
    db.session.delete(action)
    db.session.commit()


def delete_meeting(actor, meeting: Meeting) -> None:
    """Remove a meeting recorded by mistake, and the demand its points counted."""
    _require_editor(actor, meeting.street_id)
    before = snapshot(meeting, MEETING_FIELDS)
    before["points"] = len(meeting.points)
    replace_many(SignalSource.minutes, {str(p.id): [] for p in meeting.points})
    record_event(actor, "meeting.delete", meeting, before=before)
    db.session.delete(meeting)
    db.session.commit()
