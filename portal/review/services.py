"""The review queue, staff corrections as training data, and retraining the theme model (issue 7).

Corrections are written by the source domains' own confirm services through `record_correction`,
so a fix made on a ticket page and one made in the queue are the same kind of record.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterable, Optional, Sequence

from flask import current_app
from sqlalchemy import func, select, update

from portal.accounts.models import Role
from portal.audit.services import record_event
from portal.core.errors import ServiceError
from portal.core.scoping import can_act_on_street
from portal.core.time import utcnow
from portal.demand.models import SignalSource
from portal.extensions import db
from portal.jobs.models import Job, JobStatus
from portal.jobs.services import create_job, enqueue
from portal.review.models import ModelStatus, ReviewFlag, TagCorrection, ThemeModel
from portal.review.sources import ADAPTERS, Adapter

MAX_BULK = 200
HELD_BACK_SHARE = 5  # one correction in five is kept out of training to judge the new model
RETRAIN_TASK = "portal.review.tasks:retrain_task"


class Forbidden(ServiceError):
    def __init__(self, message: str = "您无权执行此操作。"):
        super().__init__(message)


def adapter_for(source: str | SignalSource, user) -> Adapter:
    try:
        adapter = ADAPTERS[SignalSource(source)]
    except (ValueError, KeyError):
        raise ServiceError("未知的记录来源。")
    if user.role not in adapter.roles:
        raise Forbidden()
    return adapter


# --- corrections ------------------------------------------------------------------------------

def record_correction(actor, source: SignalSource, record_id, text: str, before: dict, after: dict,
                      street_id: Optional[int], model_version: Optional[str]) -> TagCorrection:
    """Log one confirmation or correction as training data and close the record's open flags. No commit."""
    from nlp.mask import mask_text

    correction = TagCorrection(
        source=source, record_id=str(record_id), street_id=street_id, text=mask_text(text or "")[:20000],
        themes=list(after["themes"]), urgent=bool(after["urgent"]), previous_themes=list(before.get("themes") or []),
        previous_urgent=bool(before.get("urgent")), model_version=model_version, actor_id=getattr(actor, "id", None),
        changed=list(before.get("themes") or []) != list(after["themes"]) or bool(before.get("urgent")) != bool(after["urgent"]))
    db.session.add(correction)
    db.session.execute(update(ReviewFlag).where(ReviewFlag.source == source, ReviewFlag.record_id == str(record_id),
                                                ReviewFlag.resolved_at.is_(None)).values(resolved_at=utcnow()))
    return correction


def open_flags(source: SignalSource, record_ids: Iterable[str]) -> dict[str, list[str]]:
    ids = list(record_ids)
    reasons: dict[str, list[str]] = {}
    if not ids:
        return reasons
    stmt = select(ReviewFlag.record_id, ReviewFlag.reason).where(
        ReviewFlag.source == source, ReviewFlag.record_id.in_(ids), ReviewFlag.resolved_at.is_(None))
    for record_id, reason in db.session.execute(stmt.order_by(ReviewFlag.id)):
        reasons.setdefault(record_id, []).append(reason)
    return reasons


def flag_for_review(actor, source: str, record_id: str, reason: str) -> ReviewFlag:
    """Put a record (visible to `actor`) into the review queue with a reason."""
    adapter = adapter_for(source, actor)
    record = adapter.get(record_id, actor)
    if record is None:
        raise ServiceError("记录不存在，或您无权查看。")
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("请写明为什么需要复核。")
    if len(reason) > 500:
        raise ServiceError("复核理由最多 500 字。")
    street_id = adapter.street_of(record)
    if not can_act_on_street(actor, street_id):
        raise Forbidden()
    flag = ReviewFlag(source=adapter.source, record_id=str(record_id), street_id=street_id, reason=reason,
                      flagged_by_id=actor.id)
    record.needs_review = True
    db.session.add(flag)
    record_event(actor, "review.flag", record, street_id=street_id, after={"needs_review": True}, note=reason)
    db.session.commit()
    return flag


def confirm(actor, source: str, record_id: str, themes: Sequence[str], urgent: bool) -> None:
    adapter = adapter_for(source, actor)
    record = adapter.get(record_id, actor)
    if record is None:
        raise ServiceError("记录不存在，或您无权查看。")
    adapter.confirm(actor, record, list(themes or []), bool(urgent))


def bulk_confirm(actor, source: str, record_ids: Sequence[str], themes: Optional[Sequence[str]] = None,
                 urgent: Optional[bool] = None) -> int:
    """Confirm several records at once: each keeps its suggestion (themes None) or all get `themes`.

    Everything is checked before anything is written, so a bad selection changes nothing.
    """
    from portal.tickets.services import validate_themes

    adapter = adapter_for(source, actor)
    ids = list(dict.fromkeys(str(i) for i in record_ids if str(i).strip()))
    if not ids:
        raise ServiceError("请先勾选要确认的记录。")
    if len(ids) > MAX_BULK:
        raise ServiceError(f"一次最多确认 {MAX_BULK} 条。")
    records = [adapter.get(i, actor) for i in ids]
    if any(r is None for r in records):
        raise ServiceError("所选记录中有不存在或您无权查看的记录，未做任何修改。")
    if themes is not None:
        themes = validate_themes(list(themes))
    else:
        untagged = [i for i, r in zip(ids, records) if not r.themes]
        if untagged:
            raise ServiceError(f"有 {len(untagged)} 条记录没有系统建议的主题，请逐条选择主题，未做任何修改。")
        for r in records:
            validate_themes(list(r.themes))
    for record in records:
        adapter.confirm(actor, record, list(themes if themes is not None else record.themes),
                        record.urgent if urgent is None else urgent)
    return len(records)


def corrections_for_training() -> list[TagCorrection]:
    """The latest staff decision per distinct text (a later correction overrides an earlier one)."""
    latest: dict[str, TagCorrection] = {}
    for c in db.session.scalars(select(TagCorrection).order_by(TagCorrection.created_at, TagCorrection.id)):
        if c.text.strip():
            latest[c.text] = c
    return list(latest.values())


def count_corrected_texts() -> int:
    """How many distinct texts `corrections_for_training` would give, counted in SQL."""
    return db.session.scalar(select(func.count(func.distinct(TagCorrection.text)))
                             .where(func.trim(TagCorrection.text) != "")) or 0


def is_held_back(text: str) -> bool:
    """A fixed fifth of corrections, chosen by a hash of the text, never trains a model here."""
    return int(hashlib.sha256(text.encode()).hexdigest(), 16) % HELD_BACK_SHARE == 0


# --- models -----------------------------------------------------------------------------------

def require_admin(actor) -> None:
    if actor is None or actor.role != Role.district_admin:
        raise Forbidden("只有区住建局管理员可以管理主题模型。")


def models_dir() -> Path:
    path = Path(current_app.instance_path) / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def active_model() -> Optional[ThemeModel]:
    return db.session.scalars(select(ThemeModel).where(ThemeModel.status == ModelStatus.active)).first()


def running_retrain() -> Optional[Job]:
    return db.session.scalars(select(Job).where(Job.kind == "retrain", Job.status.in_(
        [JobStatus.queued, JobStatus.running])).order_by(Job.id.desc())).first()


def start_retraining(actor) -> Job:
    require_admin(actor)
    if running_retrain() is not None:
        raise ServiceError("已有一个重新训练任务在进行中，请等它结束。")
    if not count_corrected_texts():
        raise ServiceError("还没有人工核对过的记录，重新训练不会带来变化。")
    job = create_job(actor, "retrain", {})
    record_event(actor, "model.retrain", job, object_type="jobs")
    db.session.commit()
    enqueue(job, RETRAIN_TASK)
    return job


def _decide(actor, model: ThemeModel, status: ModelStatus, note: Optional[str]) -> None:
    model.status, model.decided_by_id, model.decided_at = status, actor.id, utcnow()
    model.note = note


def promote(actor, model: ThemeModel, note: Optional[str] = None) -> ThemeModel:
    """The candidate tags every new record from now on; records keep the version that tagged them."""
    from portal.core.tagging import forget_models

    require_admin(actor)
    if model.status != ModelStatus.candidate:
        raise ServiceError("只有待决定的模型可以启用。")
    if not Path(model.path).exists():
        raise ServiceError("模型文件不存在，无法启用。请重新训练。")
    previous = active_model()
    if previous is not None:
        previous.status = ModelStatus.retired
    _decide(actor, model, ModelStatus.active, note)
    record_event(actor, "model.promote", model, before={"active": previous.version if previous else "default"},
                 after={"active": model.version}, note=note)
    db.session.commit()
    forget_models()
    return model


def discard(actor, model: ThemeModel, note: Optional[str] = None) -> ThemeModel:
    require_admin(actor)
    if model.status != ModelStatus.candidate:
        raise ServiceError("只有待决定的模型可以放弃。")
    _decide(actor, model, ModelStatus.discarded, note)
    record_event(actor, "model.discard", model, after={"version": model.version}, note=note)
    db.session.commit()
    Path(model.path).unlink(missing_ok=True)
    return model


def retire_to_default(actor) -> None:
    """Go back to the shipped default model."""
    from portal.core.tagging import forget_models

    require_admin(actor)
    previous = active_model()
    if previous is None:
        raise ServiceError("当前已在使用内置默认模型。")
    previous.status = ModelStatus.retired
    record_event(actor, "model.promote", previous, before={"active": previous.version}, after={"active": "default"})
    db.session.commit()
    forget_models()
