"""The one place that decides which street-owned rows a user may see (DESIGN.md §1).

Every street-owned model exposes `street_clause(street_id)`: a WHERE clause that keeps only rows
of that street. Queries go through `scoped()`; single objects through `get_scoped_or_404()`, which
answers 404 for another street's row so its existence is not revealed.
"""
from __future__ import annotations

from functools import wraps
from typing import Any, Optional, TypeVar

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, select

from portal.accounts.models import Role
from portal.extensions import db

M = TypeVar("M")


def street_limit(user) -> Optional[int]:
    """The street a user is confined to, or None for district-wide roles."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise PermissionError("anonymous users have no scope")
    return user.street_id if user.role == Role.street_staff else None


def scoped(stmt: Select, model: Any, user=None) -> Select:
    street_id = street_limit(user or current_user)
    if street_id is None:
        return stmt
    return stmt.where(model.street_clause(street_id))


def get_scoped_or_404(model: type[M], object_id: Any, user=None) -> M:
    stmt = scoped(select(model).where(model.id == object_id), model, user)
    obj = db.session.execute(stmt).scalar_one_or_none()
    if obj is None:
        abort(404)
    return obj


def can_act_on_street(user, street_id: Optional[int]) -> bool:
    limit = street_limit(user)
    return limit is None or limit == street_id


def require_street(user, street_id: Optional[int]) -> None:
    if not can_act_on_street(user, street_id):
        abort(403)


def roles_required(*roles: Role):
    """View decorator: logged in and one of `roles` (403 otherwise)."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                from portal.extensions import login_manager

                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


ALL_STAFF = (Role.operator, Role.street_staff, Role.district_admin)
PLACE_EDITORS = (Role.street_staff, Role.district_admin)
