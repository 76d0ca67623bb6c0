"""Online suggestions: the resident's phone page and private link, and each street's queue. Thin: services do the work."""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Optional

from flask import (Blueprint, abort, current_app, flash, make_response, redirect, render_template, request,
                   send_file, session, url_for)
from flask_login import current_user
from sqlalchemy import Select, String, cast, select
from sqlalchemy.orm import selectinload

from portal.areas.models import Community, Estate, Street
from portal.core.errors import ServiceError
from portal.core.masking import caller_name_for, caller_phone_for, text_for
from portal.core.scoping import PLACE_EDITORS, get_scoped_or_404, roles_required, scoped
from portal.extensions import db, limiter
from portal.suggestions import services
from portal.suggestions import sources  # noqa: F401  (registers the demand click-through)
from portal.suggestions.forms import ReplyForm, SuggestionForm, TagForm
from portal.suggestions.models import Suggestion, SuggestionStatus

bp = Blueprint("suggestions", __name__, url_prefix="/suggestions")
public_bp = Blueprint("suggestion_public", __name__, url_prefix="/suggest")
TOKEN_KEY = "suggestion_link_token"


def _submit_limit() -> str:
    return current_app.config.get("SUGGESTION_RATE_LIMIT", "5 per minute;20 per day")


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


# --- residents --------------------------------------------------------------------------------

def _estate_groups() -> list[tuple[str, list[Estate]]]:
    """Every estate, grouped "街道 · 社区" for the picker (residents pick their own estate)."""
    rows = db.session.execute(
        select(Estate, Community.name, Street.name).join(Community, Estate.community_id == Community.id)
        .join(Street, Estate.street_id == Street.id).order_by(Street.name, Community.name, Estate.name)).all()
    groups: dict[str, list[Estate]] = {}
    for estate, community, street in rows:
        groups.setdefault(f"{street} · {community}", []).append(estate)
    return list(groups.items())


@public_bp.route("/", methods=["GET", "POST"])
@limiter.limit(_submit_limit, methods=["POST"])
def suggest():
    form = SuggestionForm()
    groups = _estate_groups()
    form.estate_id.choices = [(e.id, e.name) for _, estates in groups for e in estates]
    preset = None
    if request.method == "GET":
        wanted = request.args.get("estate", "")
        preset = next((e for _, es in groups for e in es if wanted.isdigit() and e.id == int(wanted)), None)
        if preset:
            form.estate_id.data = preset.id
    status = 200
    if request.method == "POST":
        status = 422
        if (form.website.data or "").strip():  # only bots fill in the hidden field
            flash("提交未成功，请刷新页面后重试。", "error")
            return render_template("suggestions/suggest.html", form=form, groups=groups, preset=None), 400
        if form.validate_on_submit():
            try:
                _, token = services.submit(services.SuggestionInput(
                    estate_id=form.estate_id.data, content=form.content.data, contact_name=form.contact_name.data,
                    contact_phone=form.contact_phone.data))
                session[TOKEN_KEY] = token
                return redirect(url_for("suggestion_public.thanks"))
            except ServiceError as exc:
                flash(exc.message, "error")
    return _no_store(make_response(render_template("suggestions/suggest.html", form=form, groups=groups,
                                                   preset=preset), status))


@public_bp.get("/thanks")
def thanks():
    """The private link, shown exactly once: the token lives only in the session until here."""
    token = session.pop(TOKEN_KEY, None)
    link = url_for("suggestion_public.view", token=token, _external=True) if token else None
    return _no_store(make_response(render_template("suggestions/thanks.html", link=link)))


@public_bp.get("/r/<token>")
@limiter.limit("30 per minute")
def view(token: str):
    suggestion = services.find_by_token(token)
    if suggestion is None:
        abort(404)
    return _no_store(make_response(render_template("suggestions/private.html", suggestion=suggestion)))


# --- street staff -----------------------------------------------------------------------------

def theme_choices():
    from nlp.themes import THEMES

    return [(t.code, t.name) for t in THEMES]


@dataclass
class SuggestionFilters:
    status: Optional[SuggestionStatus] = None
    estate_id: Optional[int] = None
    theme: Optional[str] = None
    urgent: bool = False
    needs_review: bool = False

    @classmethod
    def from_args(cls, args) -> "SuggestionFilters":
        status = args.get("status") or ""
        estate = args.get("estate_id", "")
        return cls(status=SuggestionStatus(status) if status in SuggestionStatus.__members__ else None,
                   estate_id=int(estate) if estate.isdigit() else None, theme=(args.get("theme") or None),
                   urgent=args.get("urgent") == "1", needs_review=args.get("needs_review") == "1")


def suggestion_query(filters: SuggestionFilters, user) -> Select:
    stmt = scoped(select(Suggestion), Suggestion, user).options(selectinload(Suggestion.estate))
    if filters.status:
        stmt = stmt.where(Suggestion.status == filters.status)
    if filters.estate_id:
        stmt = stmt.where(Suggestion.estate_id == filters.estate_id)
    if filters.urgent:
        stmt = stmt.where(Suggestion.urgent.is_(True))
    if filters.needs_review:
        stmt = stmt.where(Suggestion.needs_review.is_(True))
    if filters.theme:
        from nlp.themes import THEME_CODES

        # Themes are a short JSON list of plain codes: matching the quoted code works on every database.
        code = filters.theme if filters.theme in THEME_CODES else "-"
        stmt = stmt.where(cast(Suggestion.themes, String).like(f'%"{code}"%'))
    return stmt.order_by(Suggestion.created_at.desc(), Suggestion.id.desc())


def _estates():
    return db.session.scalars(scoped(select(Estate).order_by(Estate.name), Estate)).all()


@bp.get("/")
@roles_required(*PLACE_EDITORS)
def index():
    filters = SuggestionFilters.from_args(request.args)
    page = db.paginate(suggestion_query(filters, current_user), per_page=current_app.config["PAGE_SIZE"],
                       error_out=False)
    return render_template("suggestions/index.html", page=page, filters=filters,
                           estates=_estates(), themes=theme_choices(), statuses=list(SuggestionStatus),
                           text_for=lambda t: text_for(current_user, t))


def _detail(suggestion: Suggestion, reply_form=None, tag_form=None, status=200):
    tag_form = tag_form or TagForm(formdata=None, prefix="tags")
    tag_form.themes.choices = theme_choices()
    if tag_form.themes.data is None or not tag_form.is_submitted():
        tag_form.themes.data, tag_form.urgent.data = list(suggestion.themes), suggestion.urgent
    reply_form = reply_form or ReplyForm(formdata=None, prefix="reply", reply=suggestion.reply)
    return render_template("suggestions/detail.html", suggestion=suggestion, reply_form=reply_form, tag_form=tag_form,
                           content=text_for(current_user, suggestion.content),
                           contact_name=caller_name_for(current_user, suggestion.contact_name),
                           contact_phone=caller_phone_for(current_user, suggestion.contact_phone),
                           reply_text=text_for(current_user, suggestion.reply) if suggestion.reply else ""), status


@bp.get("/<int:suggestion_id>")
@roles_required(*PLACE_EDITORS)
def detail(suggestion_id: int):
    suggestion = get_scoped_or_404(Suggestion, suggestion_id)
    shown = [label for label, value in (("联系人", suggestion.contact_name), ("联系电话", suggestion.contact_phone)) if value]
    if shown and current_user.sees_personal_data:
        from portal.audit.services import record_personal_data_view

        record_personal_data_view(current_user, suggestion, shown)  # listed on the audit page
    return _detail(suggestion)


@bp.post("/<int:suggestion_id>/reply")
@roles_required(*PLACE_EDITORS)
def reply(suggestion_id: int):
    suggestion = get_scoped_or_404(Suggestion, suggestion_id)
    form = ReplyForm(prefix="reply")
    if form.validate_on_submit():
        try:
            services.reply(current_user, suggestion, form.reply.data)
            flash("已回复。居民打开专属链接即可看到回复。", "success")
            return redirect(url_for("suggestions.detail", suggestion_id=suggestion.id))
        except ServiceError as exc:
            flash(exc.message, "error")
    return _detail(suggestion, reply_form=form, status=422)


@bp.post("/<int:suggestion_id>/tags")
@roles_required(*PLACE_EDITORS)
def tags(suggestion_id: int):
    suggestion = get_scoped_or_404(Suggestion, suggestion_id)
    form = TagForm(prefix="tags")
    form.themes.choices = theme_choices()
    if form.validate_on_submit():
        try:
            services.confirm_tags(current_user, suggestion, form.themes.data, form.urgent.data)
            flash("已保存主题。", "success")
            return redirect(url_for("suggestions.detail", suggestion_id=suggestion.id))
        except ServiceError as exc:
            flash(exc.message, "error")
    else:
        for error in form.themes.errors:
            flash(error, "error")
    return _detail(suggestion, tag_form=form, status=422)


@bp.get("/links")
@roles_required(*PLACE_EDITORS)
def links():
    """Each estate's suggestion link and QR code, to print on the community notice board."""
    estates = _estates()
    return render_template("suggestions/links.html", estates=estates,
                           urls={e.id: url_for("suggestion_public.suggest", estate=e.id, _external=True) for e in estates})


@bp.get("/qr/<int:estate_id>.svg")
@roles_required(*PLACE_EDITORS)
def qr(estate_id: int):
    import segno

    estate = get_scoped_or_404(Estate, estate_id)
    url = url_for("suggestion_public.suggest", estate=estate.id, _external=True)
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=6, border=2, title=f"{estate.name} 意见建议")
    buffer.seek(0)
    download = request.args.get("download") == "1"
    return send_file(buffer, mimetype="image/svg+xml", as_attachment=download,
                     download_name=f"{estate.name}-意见建议二维码.svg")
