"""Online suggestions (DESIGN.md §3): residents submit, the estate's street replies. Every write records an event."""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Optional, Sequence

from werkzeug.exceptions import Forbidden

from portal.accounts.models import Role
from portal.areas.models import Estate
from portal.audit.services import record_event
from portal.core.errors import ServiceError
from portal.core.scoping import can_act_on_street
from portal.core.time import utcnow
from portal.demand.models import SignalSource
from portal.review.services import record_correction
from portal.demand.services import SignalInput, replace_signals, reporter_key
from portal.extensions import db
from portal.minutes import tags
from portal.suggestions.forms import MAX_CONTENT, MIN_CONTENT
from portal.suggestions.models import Suggestion, SuggestionStatus

MAX_REPLY = 2000
MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}\d{7,8}$")
EDITORS = (Role.street_staff, Role.district_admin)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_phone(raw: Optional[str]) -> Optional[str]:
    """A mobile (13812345678) or landline (010-12345678) number, spaces and dashes dropped."""
    if not raw or not raw.strip():
        return None
    digits = re.sub(r"[\s\-－()（）]", "", raw.strip())
    if digits.startswith("+86"):
        digits = digits[3:]
    if not (MOBILE.match(digits) or LANDLINE.match(digits)):
        raise ServiceError("联系电话格式不对：请填写 11 位手机号，或带区号的固定电话；也可以不填。")
    return digits


@dataclass
class SuggestionInput:
    estate_id: int
    content: str
    contact_name: Optional[str] = None
    contact_phone: Optional[str] = None


def signals(suggestion: Suggestion) -> list[SignalInput]:
    """One signal per theme for the estate; one reporter per contact phone (else per suggestion)."""
    reporter = reporter_key("suggestion", suggestion.contact_phone or suggestion.id)
    return [SignalInput(estate_id=suggestion.estate_id, theme=theme, occurred_at=suggestion.created_at,
                        reporter_key=reporter, urgent=suggestion.urgent, model_version=suggestion.model_version)
            for theme in suggestion.themes]


def submit(data: SuggestionInput) -> tuple[Suggestion, str]:
    """A resident's suggestion. Returns it and the token of the private link (shown once, stored hashed)."""
    estate = db.session.get(Estate, data.estate_id) if data.estate_id else None
    if estate is None:
        raise ServiceError("请选择您所在的小区。")
    content = (data.content or "").strip()
    if len(content) < MIN_CONTENT or len(content) > MAX_CONTENT:
        raise ServiceError(f"请用 {MIN_CONTENT}–{MAX_CONTENT} 个字写下您的建议。")
    name = (data.contact_name or "").strip() or None
    if name and len(name) > 32:
        raise ServiceError("称呼最多 32 个字。")
    phone = normalise_phone(data.contact_phone)
    token = secrets.token_urlsafe(24)
    suggestion = Suggestion(estate_id=estate.id, street_id=estate.street_id, content=content, contact_name=name,
                            contact_phone=phone, access_token_hash=hash_token(token), created_at=utcnow())
    result = tags.tag_many([content])
    tags.apply_result(suggestion, result[0] if result else None)
    db.session.add(suggestion)
    db.session.flush()
    # No personal data in the log: whether a contact was left is enough.
    record_event(None, "suggestion.create", suggestion,
                 after={"estate_id": estate.id, "themes": suggestion.themes, "urgent": suggestion.urgent,
                        "has_contact": bool(name or phone)})
    replace_signals(SignalSource.suggestion, suggestion.id, signals(suggestion))
    db.session.commit()
    return suggestion, token


def find_by_token(token: Optional[str]) -> Optional[Suggestion]:
    if not token or len(token) > 128:
        return None
    return db.session.query(Suggestion).filter_by(access_token_hash=hash_token(token)).one_or_none()


def _require_editor(actor, suggestion: Suggestion) -> None:
    if actor is None or actor.role not in EDITORS or not can_act_on_street(actor, suggestion.street_id):
        raise Forbidden()


def reply(actor, suggestion: Suggestion, text: str) -> Suggestion:
    _require_editor(actor, suggestion)
    text = (text or "").strip()
    if len(text) < 2:
        raise ServiceError("请填写回复内容。")
    if len(text) > MAX_REPLY:
        raise ServiceError(f"回复最多 {MAX_REPLY} 字。")
    before = {"status": suggestion.status, "reply": suggestion.reply}
    suggestion.reply, suggestion.status = text, SuggestionStatus.replied
    suggestion.replied_at, suggestion.replied_by_id = utcnow(), actor.id
    record_event(actor, "suggestion.reply", suggestion, before=before,
                 after={"status": suggestion.status, "reply": text})
    db.session.commit()
    return suggestion


def confirm_tags(actor, suggestion: Suggestion, themes: Sequence[str], urgent: bool) -> Suggestion:
    _require_editor(actor, suggestion)
    before, after, corrected = tags.confirm(suggestion, themes, urgent)
    replace_signals(SignalSource.suggestion, suggestion.id, signals(suggestion))
    record_event(actor, "suggestion.tags.correct" if corrected else "suggestion.tags.confirm", suggestion,
                 before=before, after=after)
    record_correction(actor, SignalSource.suggestion, suggestion.id, suggestion.content, before, after,
                      suggestion.street_id, suggestion.model_version)
    db.session.commit()
    return suggestion
