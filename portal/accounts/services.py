from __future__ import annotations

import re
from typing import Optional

from sqlalchemy import select
from werkzeug.exceptions import Forbidden

from portal.accounts.models import Role, User
from portal.areas.models import Street
from portal.audit.services import record_event
from portal.core.errors import ServiceError
from portal.core.time import utcnow
from portal.extensions import db

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{3,64}$")
MIN_PASSWORD_LENGTH = 8


def create_user(actor: Optional[User], *, username: str, password: str, role: Role,
                display_name: str = "", street_id: Optional[int] = None) -> User:
    """actor None means the command line, run by whoever operates the server."""
    if actor is not None and actor.role != Role.district_admin:
        raise Forbidden()
    username = username.strip()
    if not USERNAME_RE.match(username):
        raise ServiceError("用户名只能包含字母、数字、下划线、点和短横线，长度 3–64。")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError(f"密码至少 {MIN_PASSWORD_LENGTH} 位。")
    if db.session.scalar(select(User).where(User.username == username)):
        raise ServiceError(f"用户名「{username}」已被使用。")
    if role == Role.street_staff:
        if street_id is None or db.session.get(Street, street_id) is None:
            raise ServiceError("街道工作人员必须绑定一个已存在的街道。")
    else:
        street_id = None
    user = User(username=username, display_name=display_name.strip() or username, role=role,
                street_id=street_id)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record_event(actor, "user.create", user, object_type="users", street_id=street_id,
                 after={"username": username, "role": role.value, "street_id": street_id})
    db.session.commit()
    return user


def set_active(actor: User, user: User, active: bool) -> User:
    if actor.role != Role.district_admin:
        raise Forbidden()
    if user.id == actor.id and not active:
        raise ServiceError("不能停用自己的账号。")
    before = {"active": user.active}
    user.active = active
    record_event(actor, "user.activate" if active else "user.deactivate", user,
                 object_type="users", before=before, after={"active": active})
    db.session.commit()
    return user


def authenticate(username: str, password: str, remote_addr: Optional[str]) -> Optional[User]:
    """Returns the user when the password is right; logs success and failure alike."""
    user = db.session.scalar(select(User).where(User.username == username.strip()))
    if user is None or not user.check_password(password) or not user.active:
        record_event(user, "login.failed", object_type="users",
                     object_id=user.id if user else None,
                     note=f"用户名 {username[:64]!r}，来自 {remote_addr}")
        db.session.commit()
        return None
    user.last_login_at = utcnow()
    record_event(user, "login", user, object_type="users", note=f"来自 {remote_addr}")
    db.session.commit()
    return user


def record_logout(user: User) -> None:
    record_event(user, "logout", user, object_type="users")
    db.session.commit()
