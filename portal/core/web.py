"""Cross-cutting web concerns: login, navigation, security headers, Chinese error pages."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, g, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError, TimeoutError as SQLAlchemyTimeoutError

from portal.accounts.models import Role, User
from portal.extensions import db, login_manager

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    roles: tuple[Role, ...]


# Later domains append their entries here; the order is the order shown.
NAV_ITEMS: list[NavItem] = [
    NavItem("core.workbench", "工作台", (Role.operator, Role.street_staff, Role.district_admin)),
    NavItem("tickets.index", "工单", (Role.operator, Role.street_staff, Role.district_admin)),
    NavItem("tickets.kpi", "三率考核", (Role.operator, Role.street_staff, Role.district_admin)),
    NavItem("demand.dashboard", "需求分析", (Role.operator, Role.street_staff, Role.district_admin)),
    NavItem("review.queue", "待复核", (Role.operator, Role.street_staff, Role.district_admin)),
    NavItem("surveys.index", "意愿调查", (Role.street_staff, Role.district_admin)),
    NavItem("minutes.index", "座谈会", (Role.street_staff, Role.district_admin)),
    NavItem("suggestions.index", "网上建议", (Role.street_staff, Role.district_admin)),
    NavItem("projects.index", "项目库", (Role.street_staff, Role.district_admin)),
    NavItem("areas.index", "小区与住户", (Role.street_staff, Role.district_admin)),
    NavItem("areas.index", "地名库", (Role.operator,)),
    NavItem("review.models", "主题模型", (Role.district_admin,)),
    NavItem("accounts.users", "用户管理", (Role.district_admin,)),
    NavItem("audit.index", "审计日志", (Role.district_admin,)),
]

ERROR_TEXT = {
    400: ("请求有误", "提交的内容无法处理，请返回上一页检查后重试。"),
    403: ("无权访问", "您没有权限查看或操作这项内容。如需开通，请联系区住建局管理员。"),
    404: ("页面不存在", "您要找的页面不存在，或者您无权查看。"),
    405: ("操作方式不对", "该页面不支持这种操作。"),
    413: ("文件太大", "上传的文件超过了大小限制（20 MB），请拆分后再上传。"),
    429: ("操作太频繁", "您的操作过于频繁，请稍等一分钟后再试。"),
    500: ("系统出错了", "服务器处理时出现错误，已记录。请稍后重试，若仍有问题请联系管理员。"),
    503: ("系统暂时不可用", "数据库暂时无法连接，您的操作没有完成。请稍等片刻后刷新页面重试。"),
}


def nav_for(user) -> list[NavItem]:
    if not getattr(user, "is_authenticated", False):
        return []
    return [item for item in NAV_ITEMS if user.role in item.roles]


def render_error(code: int, detail: str | None = None):
    title, text = ERROR_TEXT.get(code, ERROR_TEXT[500])
    return render_template("errors/error.html", code=code, title=title, text=detail or text), code


def init_app(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "请先登录。"
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str):
        user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
        return user if user is not None and user.active else None

    register_filters(app)

    @app.context_processor
    def navigation():
        return {"nav_items": nav_for(current_user), "Role": Role}

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if current_user.is_authenticated:
            headers.setdefault("Cache-Control", "no-store")  # staff pages carry personal data
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(400, "页面已过期或表单校验失败，请刷新页面后重新提交。")

    for code in (400, 403, 404, 405, 429):
        app.register_error_handler(code, lambda error, code=code: render_error(code))

    @app.errorhandler(413)
    def too_large(error):
        _drain_request_body()
        limit = app.config.get("MAX_CONTENT_LENGTH") or 0
        size = f"{limit / 2**20:g} MB" if limit >= 2**20 else f"{limit / 2**10:.0f} KB"
        return render_error(413, f"上传的文件超过了大小限制（{size}），未保存任何内容。请拆分后再上传。")

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(SQLAlchemyTimeoutError)
    def database_unavailable(error):
        # The database restarted or is out of connections: say so, without touching it again (no user
        # loaded for the navigation); pool_pre_ping replaces the dead connections on the next request.
        app.logger.warning("database unavailable: %s", (str(error).splitlines() or [""])[0])
        try:
            db.session.rollback()
        except Exception:
            pass
        g._login_user = login_manager.anonymous_user()
        body, code = render_error(503)
        return body, code, {"Retry-After": "5"}

    @app.teardown_appcontext
    def close_session(error):
        # Runs before Flask-SQLAlchemy's own teardown: a connection the database cut (restart) after the
        # response was made fails the ROLLBACK here, and must not turn that response into a bare 500.
        try:
            db.session.remove()
        except (OperationalError, InterfaceError):
            db.session.registry.clear()  # the dead connection is invalidated; the pool opens a new one

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        return render_error(500)


DRAIN_LIMIT = 200 * 1024 * 1024


def _drain_request_body() -> None:
    """Reads and drops an over-limit upload before answering: a server that closes the connection while the
    browser is still sending makes it show "connection reset" instead of the 413 page."""
    length = request.content_length or 0
    stream = request.environ.get("wsgi.input")
    if not stream or not 0 < length <= DRAIN_LIMIT:
        return
    try:
        while length > 0:
            chunk = stream.read(min(length, 1024 * 1024))
            if not chunk:
                break
            length -= len(chunk)
    except OSError:
        pass  # the client gave up


ACTION_LABELS = {
    "ticket.create": "登记工单", "ticket.import": "导入工单", "ticket.import_update": "导入更新状态",
    "ticket.dispatch": "派单", "ticket.accept": "签收办理", "ticket.return": "退单", "ticket.resolve": "办结",
    "ticket.callback": "回访", "ticket.merge": "并单", "ticket.place": "确定小区",
    "ticket.tags.confirm": "确认主题", "ticket.tags.correct": "更正主题",
}


def register_filters(app: Flask) -> None:
    from portal.core.workdays import to_local

    @app.template_filter("local_time")
    def local_time(value, fmt="%Y-%m-%d %H:%M"):
        return to_local(value).strftime(fmt) if value else ""

    @app.template_filter("theme_name")
    def theme_name_filter(code):
        from nlp.themes import theme_name

        return theme_name(code)

    @app.template_filter("action_label")
    def action_label(action):
        return ACTION_LABELS.get(action, action)

    @app.template_filter("status_label")
    def status_label(value):
        from portal.tickets.models import STATUS_LABELS, TicketStatus

        try:
            return STATUS_LABELS[TicketStatus(value)]
        except ValueError:
            return value or "—"

    @app.template_filter("percent")
    def percent(value):
        return "—" if value is None else f"{value * 100:.1f}%"
