from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.time import utcnow
from portal.extensions import db


class JobStatus(str, enum.Enum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"

    @property
    def label(self) -> str:
        return {"queued": "排队中", "running": "进行中", "done": "已完成", "failed": "失败"}[self.value]


class Job(db.Model):
    """A long task (import, retraining, large export) and its progress, visible to the user who started it."""
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[JobStatus] = mapped_column(db.Enum(JobStatus, native_enum=False, length=16), default=JobStatus.queued)
    progress: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    message: Mapped[Optional[str]] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    street_id: Mapped[Optional[int]] = mapped_column(ForeignKey("streets.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[Optional[datetime]]
    finished_at: Mapped[Optional[datetime]]
    # Which process runs it ("host:pid:start-time") and when it last said so: a job whose worker
    # died is found and failed instead of staying "running" forever (jobs.services.reap_stale_jobs).
    worker: Mapped[Optional[str]] = mapped_column(String(160))
    heartbeat_at: Mapped[Optional[datetime]]

    @property
    def percent(self) -> int:
        return int(100 * self.progress / self.total) if self.total else (100 if self.status == JobStatus.done else 0)
