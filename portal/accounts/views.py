from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from portal.accounts import services
from portal.accounts.forms import EmptyForm, LoginForm, UserForm
from portal.accounts.models import Role, User
from portal.areas.models import Street
from portal.core.errors import ServiceError
from portal.core.scoping import roles_required
from portal.extensions import db, limiter

bp = Blueprint("accounts", __name__)


def _safe_next(target: str | None) -> str:
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("core.workbench")


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit("30 per hour", methods=["POST"], key_func=lambda: "user:" + request.form.get("username", "").lower()[:64])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.workbench"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.username.data, form.password.data, request.remote_addr)
        if user is None:
            flash("用户名或密码不正确。", "error")
        else:
            login_user(user)
            flash(f"欢迎，{user.display_name}。", "success")
            return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    if EmptyForm().validate_on_submit():
        services.record_logout(current_user)
        logout_user()
        flash("您已退出登录。", "success")
    return redirect(url_for("core.home"))


def _street_choices():
    streets = db.session.scalars(select(Street).order_by(Street.name)).all()
    return [(0, "（不绑定）")] + [(s.id, s.name) for s in streets]


@bp.route("/accounts/users", methods=["GET", "POST"])
@roles_required(Role.district_admin)
def users():
    form = UserForm()
    form.street_id.choices = _street_choices()
    if form.validate_on_submit():
        try:
            user = services.create_user(
                current_user, username=form.username.data, password=form.password.data,
                role=Role(form.role.data), display_name=form.display_name.data or "",
                street_id=form.street_id.data or None,
            )
            flash(f"已创建用户「{user.username}」。", "success")
            return redirect(url_for("accounts.users"))
        except ServiceError as exc:
            flash(exc.message, "error")
    all_users = db.session.scalars(select(User).order_by(User.role, User.username)).all()
    return render_template("accounts/users.html", form=form, users=all_users, toggle_form=EmptyForm())


@bp.post("/accounts/users/<int:user_id>/active")
@roles_required(Role.district_admin)
def toggle_active(user_id: int):
    user = db.get_or_404(User, user_id)
    if EmptyForm().validate_on_submit():
        try:
            services.set_active(current_user, user, not user.active)
            flash(f"已{'启用' if user.active else '停用'}用户「{user.username}」。", "success")
        except ServiceError as exc:
            flash(exc.message, "error")
    return redirect(url_for("accounts.users"))
