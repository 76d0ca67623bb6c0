"""Consultation meetings: record, review the split of the minutes, read by theme, close. Thin: services do the work."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.core.errors import ServiceError
from portal.core.scoping import PLACE_EDITORS, get_scoped_or_404, roles_required
from portal.extensions import db
from portal.minutes import queries, services
from portal.minutes import sources  # noqa: F401  (registers the demand click-through)
from portal.minutes.forms import ActionForm, CloseForm, EmptyForm, MeetingForm, NewMeetingForm, PointsForm, TagForm
from portal.minutes.models import KIND_LABELS, Meeting, MeetingAction, MeetingKind, MinutesPoint
from portal.minutes.parsing import MinutesError, ParsedPoint, delete_point, merge_with_next, split_point

bp = Blueprint("minutes", __name__, url_prefix="/meetings")


def theme_choices():
    from nlp.themes import THEMES

    return [(t.code, t.name) for t in THEMES]


def _estate_choices():
    estates = queries.estates_for(current_user)
    if current_user.street_id:
        return [(e.id, f"{e.community.name} · {e.name}") for e in estates]
    return [(e.id, f"{e.street.name} · {e.community.name} · {e.name}") for e in estates]


def _meeting_input(form: MeetingForm) -> services.MeetingInput:
    return services.MeetingInput(
        kind=MeetingKind(form.kind.data), title=form.title.data or "", held_on=form.held_on.data,
        estate_ids=form.estate_ids.data or [], attendee_count=form.attendee_count.data,
        organiser=form.organiser.data or "", location=form.location.data or "")


@bp.get("/")
@roles_required(*PLACE_EDITORS)
def index():
    filters = queries.MeetingFilters.from_args(request.args)
    page = db.paginate(queries.meeting_query(filters, current_user), per_page=current_app.config["PAGE_SIZE"],
                       error_out=False)
    return render_template("minutes/index.html", page=page, filters=filters, kinds=KIND_LABELS,
                           estates=queries.estates_for(current_user))


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*PLACE_EDITORS)
def new():
    form = NewMeetingForm()
    form.estate_ids.choices = _estate_choices()
    if request.method == "GET" and request.args.get("estate_id", "").isdigit():
        form.estate_ids.data = [int(request.args["estate_id"])]
    if form.validate_on_submit():
        upload = form.minutes_file.data
        has_file = upload is not None and getattr(upload, "filename", "")
        try:
            meeting = services.create_meeting(
                current_user, _meeting_input(form),
                filename=upload.filename if has_file else None, file_data=upload.read() if has_file else None,
                pasted=form.minutes_text.data)
            flash("会议已登记。请核对纪要的拆分结果：可以修改、合并、拆分或删除，确认后保存。", "success")
            return redirect(url_for("minutes.points", meeting_id=meeting.id))
        except ServiceError as exc:
            flash(exc.message, "error")
    status = 422 if request.method == "POST" else 200
    return render_template("minutes/form.html", form=form, title="登记会议", is_new=True), status


@bp.get("/<int:meeting_id>")
@roles_required(*PLACE_EDITORS)
def detail(meeting_id: int):
    meeting = get_scoped_or_404(Meeting, meeting_id)
    groups, untagged = queries.theme_groups(meeting)
    chart = {"themes": [g.theme for g in groups], "counts": [len(g.points) for g in groups]}
    from nlp.themes import theme_name

    chart["names"] = [theme_name(t) for t in chart["themes"]]
    return render_template("minutes/detail.html", meeting=meeting, groups=groups, untagged=untagged, chart=chart,
                           similar=queries.similar_open_tickets(meeting, current_user),
                           close_form=CloseForm(formdata=None, outcomes=meeting.outcomes),
                           action_form=ActionForm(formdata=None), button_form=EmptyForm(),
                           today=services.today_local())


@bp.route("/<int:meeting_id>/edit", methods=["GET", "POST"])
@roles_required(*PLACE_EDITORS)
def edit(meeting_id: int):
    meeting = get_scoped_or_404(Meeting, meeting_id)
    form = MeetingForm(obj=meeting)
    form.estate_ids.choices = _estate_choices()
    if request.method == "GET":
        form.kind.data = meeting.kind.value
        form.estate_ids.data = meeting.estate_ids
    if form.validate_on_submit():
        try:
            services.update_meeting(current_user, meeting, _meeting_input(form))
            flash("已保存。", "success")
            return redirect(url_for("minutes.detail", meeting_id=meeting.id))
        except ServiceError as exc:
            flash(exc.message, "error")
    status = 422 if request.method == "POST" else 200
    return render_template("minutes/form.html", form=form, title=f"编辑会议：{meeting.title}", meeting=meeting,
                           is_new=False), status


def _points_form(drafts: list[ParsedPoint]) -> PointsForm:
    return PointsForm(formdata=None, data={"points": [{"speaker": d.speaker or "", "text": d.text, "cursor": ""}
                                                      for d in drafts]})


def _posted_drafts(form: PointsForm) -> tuple[list[ParsedPoint], list]:
    drafts = [ParsedPoint(entry.form.text.data or "", (entry.form.speaker.data or "").strip() or None)
              for entry in form.points]
    cursors = [entry.form.cursor.data for entry in form.points]
    return drafts, cursors


def _editing(action: str, drafts: list[ParsedPoint], cursors: list) -> list[ParsedPoint]:
    """merge-N / split-N / delete-N on the posted draft (N counts from 0). Raises MinutesError."""
    verb, _, number = action.partition("-")
    if not number.isdigit():
        abort(400)
    index = int(number)
    if verb == "merge":
        return merge_with_next(drafts, index)
    if verb == "split":
        raw = cursors[index] if index < len(cursors) else ""
        return split_point(drafts, index, int(raw) if str(raw or "").isdigit() else None)
    if verb == "delete":
        return delete_point(drafts, index)
    abort(400)


@bp.route("/<int:meeting_id>/points", methods=["GET", "POST"])
@roles_required(*PLACE_EDITORS)
def points(meeting_id: int):
    """The split editor. Merge, split and delete change only the draft on the page; 保存 writes it."""
    meeting = get_scoped_or_404(Meeting, meeting_id)
    if request.method == "GET":
        return render_template("minutes/points.html", meeting=meeting, form=_points_form(services.draft_points(meeting)))
    form = PointsForm()
    if not form.validate_on_submit():  # (a bad CSRF token is refused before the view runs)
        flash("有条目填写不正确，请按提示修改。", "error")
        return render_template("minutes/points.html", meeting=meeting, form=form), 422
    drafts, cursors = _posted_drafts(form)
    action = request.form.get("action", "")
    if action == "save":
        try:
            tagged = services.save_points(current_user, meeting, drafts)
        except ServiceError as exc:
            flash(exc.message, "error")
            return render_template("minutes/points.html", meeting=meeting, form=_points_form(drafts)), 422
        if tagged:
            flash(f"已保存 {len(meeting.points)} 条要点，并识别了主题。", "success")
        else:
            flash(f"已保存 {len(meeting.points)} 条要点。主题识别暂不可用，请逐条标注主题。", "warning")
        return redirect(url_for("minutes.detail", meeting_id=meeting.id))
    if action == "reparse":
        drafts = services.resplit(meeting)
        flash("已按原始纪要重新拆分（尚未保存）。", "success")
    else:
        try:
            drafts = _editing(action, drafts, cursors)
        except MinutesError as exc:
            flash(exc.message, "error")
            return render_template("minutes/points.html", meeting=meeting, form=_points_form(drafts)), 422
    return render_template("minutes/points.html", meeting=meeting, form=_points_form(drafts))


@bp.route("/<int:meeting_id>/points/<int:point_id>/tags", methods=["GET", "POST"])
@roles_required(*PLACE_EDITORS)
def point_tags(meeting_id: int, point_id: int):
    point = get_scoped_or_404(MinutesPoint, point_id)
    if point.meeting_id != meeting_id:
        abort(404)
    form = TagForm()
    form.themes.choices = theme_choices()
    if request.method == "GET":
        form.themes.data, form.urgent.data = list(point.themes), point.urgent
    if form.validate_on_submit():
        try:
            services.confirm_point_tags(current_user, point, form.themes.data, form.urgent.data)
            flash(f"已保存第 {point.position} 条的主题。", "success")
            return redirect(url_for("minutes.detail", meeting_id=meeting_id, _anchor=f"point-{point.id}"))
        except ServiceError as exc:
            flash(exc.message, "error")
    status = 422 if request.method == "POST" else 200
    return render_template("minutes/point_tags.html", point=point, meeting=point.meeting, form=form), status


def _act(meeting: Meeting, handler, anchor: str = "closing"):
    try:
        flash(handler(), "success")
    except ServiceError as exc:
        flash(exc.message, "error")
    return redirect(url_for("minutes.detail", meeting_id=meeting.id, _anchor=anchor))


@bp.post("/<int:meeting_id>/close")
@roles_required(*PLACE_EDITORS)
def close(meeting_id: int):
    meeting = get_scoped_or_404(Meeting, meeting_id)
    form = CloseForm()
    if not form.validate_on_submit():
        return _form_errors(meeting, form)
    return _act(meeting, lambda: (services.close_meeting(current_user, meeting, form.outcomes.data), "已保存会议结论。")[1])


@bp.post("/<int:meeting_id>/actions")
@roles_required(*PLACE_EDITORS)
def add_action(meeting_id: int):
    meeting = get_scoped_or_404(Meeting, meeting_id)
    form = ActionForm()
    if not form.validate_on_submit():
        return _form_errors(meeting, form)
    return _act(meeting, lambda: (services.add_action(current_user, meeting, form.description.data, form.owner.data,
                                                      form.due_on.data), "已添加跟进事项。")[1])


def _form_errors(meeting: Meeting, form):
    for field in form:
        for error in field.errors:
            flash(error, "error")
    return redirect(url_for("minutes.detail", meeting_id=meeting.id, _anchor="closing"))


def _action(meeting_id: int, action_id: int) -> MeetingAction:
    action = get_scoped_or_404(MeetingAction, action_id)
    if action.meeting_id != meeting_id:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    return action


@bp.post("/<int:meeting_id>/actions/<int:action_id>/done")
@roles_required(*PLACE_EDITORS)
def action_done(meeting_id: int, action_id: int):
    action = _action(meeting_id, action_id)
    done = request.form.get("done") == "1"
    return _act(action.meeting, lambda: (services.set_action_done(current_user, action, done),
                                         "已标记为完成。" if done else "已改为未完成。")[1])


@bp.post("/<int:meeting_id>/actions/<int:action_id>/delete")
@roles_required(*PLACE_EDITORS)
def action_delete(meeting_id: int, action_id: int):
    action = _action(meeting_id, action_id)
    meeting = action.meeting
    return _act(meeting, lambda: (services.delete_action(current_user, action), "已删除跟进事项。")[1])


@bp.post("/<int:meeting_id>/delete")
@roles_required(*PLACE_EDITORS)
def delete(meeting_id: int):
    meeting = get_scoped_or_404(Meeting, meeting_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    title = meeting.title
    services.delete_meeting(current_user, meeting)
    flash(f"已删除会议「{title}」及其要点。", "success")
    return redirect(url_for("minutes.index"))


@bp.get("/<int:meeting_id>/minutes.txt")
@roles_required(*PLACE_EDITORS)
def original(meeting_id: int):
    """The minutes as they came in, before splitting."""
    meeting = get_scoped_or_404(Meeting, meeting_id)
    return current_app.response_class(
        meeting.minutes_text or "", mimetype="text/plain; charset=utf-8",
        headers={"Content-Disposition": f"inline; filename=meeting-{meeting.id}.txt"})


@bp.app_template_filter("meeting_kind")
def meeting_kind(kind) -> str:
    try:
        return MeetingKind(getattr(kind, "value", kind)).label
    except ValueError:
        return str(kind or "")
