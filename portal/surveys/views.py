"""Renewal-willingness surveys: staff pages under /surveys, the residents' pages under /s. Thin: the
services do the work and the checks."""
from __future__ import annotations

import time
from typing import Any, Optional

from flask import (
    Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, session, url_for,
)
from flask_login import current_user
from sqlalchemy import func, select

from portal.accounts.forms import EmptyForm
from portal.areas.models import Estate, Household, Street
from portal.areas.roster import normalise_building
from portal.core.errors import ServiceError
from portal.core.scoping import PLACE_EDITORS, get_scoped_or_404, roles_required, scoped
from portal.extensions import db, limiter
from portal.surveys import exports, results as survey_results, services
from portal.surveys import sources  # noqa: F401  (registers survey answers with the demand dashboard)
from portal.surveys.forms import CodesForm, HouseholdCodeForm, IdentifyForm, QuestionForm, SurveyForm
from portal.surveys.models import (
    CONSENT_OPTIONS, MATTER_RULES, STATUS_LABELS, Channel, MatterType, QuestionKind, Survey, SurveyQuestion,
    SurveyResponse, TallyScope,
)

bp = Blueprint("surveys", __name__, url_prefix="/surveys")
public_bp = Blueprint("survey_public", __name__, url_prefix="/s")

SESSION_KEY = "survey_households"
SESSION_SECONDS = 2 * 3600
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _survey(survey_id: int) -> Survey:
    return get_scoped_or_404(Survey, survey_id)


def _question(survey: Survey, question_id: int) -> SurveyQuestion:
    question = db.session.get(SurveyQuestion, question_id)
    if question is None or question.survey_id != survey.id:
        abort(404)
    return question


def _estate_choices() -> list[tuple[int, str]]:
    stmt = scoped(select(Estate).join(Street, Estate.street_id == Street.id).order_by(Street.name, Estate.name), Estate)
    estates = db.session.scalars(stmt).all()
    many_streets = len({e.street_id for e in estates}) > 1
    return [(e.id, f"{e.street.name} / {e.name}" if many_streets else e.name) for e in estates]


def _questions_data(survey: Survey) -> list[dict[str, Any]]:
    """What the question templates need, with renovation items grouped by category."""
    items = []
    for number, q in enumerate(survey.questions, start=1):
        groups: list[tuple[str, list[tuple[int, str]]]] = []
        if q.kind in (QuestionKind.single, QuestionKind.multiple):
            for index, option in enumerate(q.options or []):
                category = option.get("category") or ""
                if not groups or groups[-1][0] != category:
                    groups.append((category, []))
                groups[-1][1].append((index, option["label"]))
        elif q.kind == QuestionKind.consent:
            groups = [("", [(i, label) for i, (_, label) in enumerate(CONSENT_OPTIONS)])]
        items.append({"number": number, "q": q, "groups": groups})
    return items


def _values_from_answers(response: Optional[SurveyResponse]) -> dict[int, dict[str, Any]]:
    values: dict[int, dict[str, Any]] = {}
    for answer in (response.answers if response else []):
        values[answer.question_id] = {"choices": set(answer.choices or []), "number": answer.number,
                                      "text": answer.text or ""}
    return values


def _values_from_form(survey: Survey, form) -> dict[int, dict[str, Any]]:
    values: dict[int, dict[str, Any]] = {}
    for q in survey.questions:
        raw = form.getlist(f"q{q.id}")
        # isdecimal, not isdigit: int() refuses "²"; and a bounded length, int() refuses 5000 digits
        numbers = {int(v) for v in (str(v).strip() for v in raw) if v.isdecimal() and len(v) <= 9}
        values[q.id] = {"choices": numbers, "number": next(iter(numbers), None), "text": (form.get(f"q{q.id}") or "")}
    return values


# --- staff: list, build, edit -------------------------------------------------------------------

@bp.get("/")
@roles_required(*PLACE_EDITORS)
def index():
    surveys = db.session.scalars(scoped(select(Survey).order_by(Survey.opens_on.desc(), Survey.id.desc()), Survey)).all()
    counts = dict(db.session.execute(
        select(SurveyResponse.survey_id, func.count()).where(SurveyResponse.survey_id.in_([s.id for s in surveys]))
        .group_by(SurveyResponse.survey_id)).all())
    return render_template("surveys/index.html", surveys=surveys, counts=counts, today=services.local_today(),
                           status_labels=STATUS_LABELS)


def _survey_input(form: SurveyForm) -> services.SurveyInput:
    return services.SurveyInput(
        title=form.title.data or "", intro=form.intro.data or "", estate_ids=list(form.estate_ids.data or []),
        matter_type=MatterType(form.matter_type.data), tally_scope=TallyScope(form.tally_scope.data),
        opens_on=form.opens_on.data, closes_on=form.closes_on.data, scope_targets_text=form.scope_targets.data or "")


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*PLACE_EDITORS)
def new():
    form = SurveyForm()
    form.estate_ids.choices = _estate_choices()
    if request.method == "GET":
        form.opens_on.data = services.local_today()
    if form.validate_on_submit():
        try:
            survey = services.create_survey(current_user, _survey_input(form))
            flash("已创建调查。下一步：添加题目。", "success")
            return redirect(url_for("surveys.detail", survey_id=survey.id))
        except ServiceError as exc:
            flash(exc.message, "error")
    return render_template("surveys/form.html", form=form, title="新建意愿调查"), 200 if request.method == "GET" else 422


@bp.route("/<int:survey_id>/edit", methods=["GET", "POST"])
@roles_required(*PLACE_EDITORS)
def edit(survey_id: int):
    survey = _survey(survey_id)
    form = SurveyForm(obj=survey)
    form.estate_ids.choices = _estate_choices()
    if request.method == "GET":
        form.estate_ids.data = survey.estate_ids
        form.matter_type.data = survey.matter_type.value
        form.tally_scope.data = survey.tally_scope.value
        form.scope_targets.data = "\n".join(survey.scope_targets or [])
    if form.validate_on_submit():
        try:
            services.update_survey(current_user, survey, _survey_input(form))
            flash("已保存。", "success")
            return redirect(url_for("surveys.detail", survey_id=survey.id))
        except ServiceError as exc:
            db.session.rollback()
            flash(exc.message, "error")
    return (render_template("surveys/form.html", form=form, title=f"编辑调查：{survey.title}", survey=survey),
            200 if request.method == "GET" else 422)


@bp.get("/<int:survey_id>")
@roles_required(*PLACE_EDITORS)
def detail(survey_id: int):
    survey = _survey(survey_id)
    responses = db.session.scalar(select(func.count()).select_from(SurveyResponse)
                                  .where(SurveyResponse.survey_id == survey.id))
    households = services.households_in_scope(survey)
    with_code = sum(1 for h in households if h.access_code_hash)
    return render_template(
        "surveys/detail.html", survey=survey, questions=_questions_data(survey), responses=responses,
        households=len(households), with_code=with_code, status=survey.status(services.local_today()),
        status_labels=STATUS_LABELS, matter_rules=MATTER_RULES, action_form=EmptyForm(),
        public_url=url_for("survey_public.start", slug=survey.slug, _external=True),
        target_label=services.target_label, options_text=services.options_text)


def _question_input(form: QuestionForm) -> services.QuestionInput:
    return services.QuestionInput(
        kind=QuestionKind(form.kind.data), text=form.text.data or "", required=bool(form.required.data),
        options_text=form.options.data or "", max_choices=form.max_choices.data,
        scale_low=form.scale_low.data or "", scale_high=form.scale_high.data or "")


@bp.route("/<int:survey_id>/questions/new", methods=["GET", "POST"])
@roles_required(*PLACE_EDITORS)
def new_question(survey_id: int):
    survey = _survey(survey_id)
    form = QuestionForm()
    if request.method == "GET":
        kind = request.args.get("kind", "single")
        form.kind.data = kind if kind in QuestionKind.__members__ else "single"
        form.required.data = True
        if form.kind.data == "consent":
            form.text.data = "您是否同意本小区实施本次改造？"
    if form.validate_on_submit():
        try:
            services.add_question(current_user, survey, _question_input(form))
            flash("已添加题目。", "success")
            return redirect(url_for("surveys.detail", survey_id=survey.id, _anchor="questions"))
        except ServiceError as exc:
            flash(exc.message, "error")
    return (render_template("surveys/question_form.html", form=form, survey=survey, title="添加题目"),
            200 if request.method == "GET" else 422)


@bp.post("/<int:survey_id>/questions/preset")
@roles_required(*PLACE_EDITORS)
def preset_question(survey_id: int):
    survey = _survey(survey_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        question = services.add_preset_question(current_user, survey)
        flash("已添加改造项目多选题（预设清单）。可以点“修改”增删项目、调整对应主题。", "success")
        return redirect(url_for("surveys.edit_question", survey_id=survey.id, question_id=question.id))
    except ServiceError as exc:
        flash(exc.message, "error")
    return redirect(url_for("surveys.detail", survey_id=survey.id, _anchor="questions"))


@bp.route("/<int:survey_id>/questions/<int:question_id>/edit", methods=["GET", "POST"])
@roles_required(*PLACE_EDITORS)
def edit_question(survey_id: int, question_id: int):
    survey = _survey(survey_id)
    question = _question(survey, question_id)
    form = QuestionForm()
    if request.method == "GET":
        form.kind.data, form.text.data, form.required.data = question.kind.value, question.text, question.required
        form.max_choices.data = question.max_choices
        if question.kind == QuestionKind.scale:
            form.scale_low.data, form.scale_high.data = question.scale_labels
        else:
            form.options.data = services.options_text(question.options)
    if form.validate_on_submit():
        try:
            services.update_question(current_user, survey, question, _question_input(form))
            flash("已保存题目。", "success")
            return redirect(url_for("surveys.detail", survey_id=survey.id, _anchor="questions"))
        except ServiceError as exc:
            db.session.rollback()
            flash(exc.message, "error")
    return (render_template("surveys/question_form.html", form=form, survey=survey, title="修改题目"),
            200 if request.method == "GET" else 422)


@bp.post("/<int:survey_id>/questions/<int:question_id>/delete")
@roles_required(*PLACE_EDITORS)
def delete_question(survey_id: int, question_id: int):
    survey = _survey(survey_id)
    question = _question(survey, question_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.delete_question(current_user, survey, question)
        flash("已删除题目。", "success")
    except ServiceError as exc:
        flash(exc.message, "error")
    return redirect(url_for("surveys.detail", survey_id=survey.id, _anchor="questions"))


@bp.post("/<int:survey_id>/questions/<int:question_id>/move")
@roles_required(*PLACE_EDITORS)
def move_question(survey_id: int, question_id: int):
    survey = _survey(survey_id)
    question = _question(survey, question_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.move_question(current_user, survey, question, 1 if request.form.get("direction") == "down" else -1)
    except ServiceError as exc:
        flash(exc.message, "error")
    return redirect(url_for("surveys.detail", survey_id=survey.id, _anchor="questions"))


@bp.get("/<int:survey_id>/preview")
@roles_required(*PLACE_EDITORS)
def preview(survey_id: int):
    survey = _survey(survey_id)
    return render_template("surveys/public/answer.html", survey=survey, questions=_questions_data(survey),
                           values={}, errors={}, preview=True, household=None, response=None,
                           status=survey.status(services.local_today()))


# --- staff: access codes and posters ------------------------------------------------------------

def _code_forms(survey: Survey):
    choices = [(e.id, e.name) for e in survey.estates]
    codes_form = CodesForm(prefix="batch")
    codes_form.estate_id.choices = choices
    one_form = HouseholdCodeForm(prefix="one")
    one_form.estate_id.choices = choices
    return codes_form, one_form


def _slip_url(survey: Survey, household: Household) -> str:
    return url_for("survey_public.start", slug=survey.slug, e=household.estate_id, b=household.building,
                   u=household.unit or None, r=household.room, _external=True)


def _qr(url: str, scale: int) -> str:
    import segno

    return segno.make(url, error="m").svg_data_uri(scale=scale, border=2)


def _code_sheet(survey: Survey, issued):
    estates = {e.id: e for e in survey.estates}
    slips = [{"estate": estates[h.estate_id].name, "label": h.label, "code": code,
              "qr": _qr(_slip_url(survey, h), 3)} for h, code in issued]
    return render_template("surveys/codes_sheet.html", survey=survey, slips=slips,
                           public_url=url_for("survey_public.start", slug=survey.slug, _external=True))


@bp.route("/<int:survey_id>/codes", methods=["GET", "POST"])
@roles_required(*PLACE_EDITORS)
def codes(survey_id: int):
    survey = _survey(survey_id)
    codes_form, one_form = _code_forms(survey)
    status = 200
    if request.form.get("form") == "batch" and codes_form.validate_on_submit():
        building = normalise_building(codes_form.building.data or "")
        chosen = [h for h in services.households_in_scope(survey)
                  if h.estate_id == codes_form.estate_id.data and (not building or h.building == building)
                  and not (codes_form.only_missing.data and h.access_code_hash)]
        try:
            issued = services.regenerate_codes(current_user, survey, chosen)
            return _code_sheet(survey, issued)
        except ServiceError as exc:
            flash(exc.message, "error")
            status = 422
    elif request.form.get("form") == "one" and one_form.validate_on_submit():
        household = services.find_household(survey, one_form.estate_id.data, one_form.building.data or "",
                                            one_form.unit.data or "", one_form.room.data or "")
        try:
            if household is None:
                raise ServiceError("本调查范围内没有这一户，请核对楼栋、单元和房号。")
            issued = services.regenerate_codes(current_user, survey, [household])
            return _code_sheet(survey, issued)
        except ServiceError as exc:
            flash(exc.message, "error")
            status = 422
    elif request.method == "POST":
        status = 422
    households = services.households_in_scope(survey)
    stats = {"households": len(households), "with_code": sum(1 for h in households if h.access_code_hash)}
    return render_template("surveys/codes.html", survey=survey, codes_form=codes_form, one_form=one_form,
                           stats=stats, limit=current_app.config.get("SURVEY_CODE_BATCH_MAX", 60)), status


def _buildings(survey: Survey) -> dict[int, list[str]]:
    by_estate: dict[int, set[str]] = {}
    for h in services.households_in_scope(survey):
        by_estate.setdefault(h.estate_id, set()).add(h.building)
    return {k: sorted(v, key=survey_results._sort_text) for k, v in by_estate.items()}


@bp.get("/<int:survey_id>/posters")
@roles_required(*PLACE_EDITORS)
def posters(survey_id: int):
    survey = _survey(survey_id)
    return render_template("surveys/posters.html", survey=survey, buildings=_buildings(survey))


@bp.get("/<int:survey_id>/poster")
@roles_required(*PLACE_EDITORS)
def poster(survey_id: int):
    survey = _survey(survey_id)
    estate_id = request.args.get("estate_id", type=int)
    estate = next((e for e in survey.estates if e.id == estate_id), None)
    if estate is None:
        abort(404)
    building = normalise_building(request.args.get("building", ""))
    if building and building not in _buildings(survey).get(estate.id, []):
        abort(404)
    url = url_for("survey_public.start", slug=survey.slug, e=estate.id, b=building or None, _external=True)
    return render_template("surveys/poster.html", survey=survey, estate=estate, building=building, url=url,
                           qr=_qr(url, 10))


# --- staff: paper answers -----------------------------------------------------------------------

@bp.route("/<int:survey_id>/paper", methods=["GET", "POST"])
@roles_required(*PLACE_EDITORS)
def paper(survey_id: int):
    survey = _survey(survey_id)
    source = request.form if request.method == "POST" else request.args
    lookup = {"estate_id": source.get("estate_id", type=int) or (survey.estate_ids[0] if survey.estate_ids else None),
              "building": (source.get("building") or "").strip()[:32], "unit": (source.get("unit") or "").strip()[:32],
              "room": (source.get("room") or "").strip()[:32]}
    household = None
    errors: dict[int, str] = {}
    status = 200
    if lookup["building"] and lookup["room"]:
        household = services.find_household(survey, lookup["estate_id"], lookup["building"], lookup["unit"],
                                            lookup["room"])
        if household is None:
            flash("本调查范围内没有这一户，请核对楼栋、单元和房号。", "error")
            status = 404 if request.method == "GET" else 422
    values: dict[int, dict[str, Any]] = {}
    if request.method == "POST" and household is not None:
        if not EmptyForm().validate_on_submit():
            abort(400)
        answers, errors = services.parse_answers(survey, request.form)
        if not errors:
            try:
                services.submit_response(current_user, survey, household, answers, Channel.paper)
                flash(f"已录入 {household.label} 的纸质问卷。", "success")
                return redirect(url_for("surveys.paper", survey_id=survey.id, estate_id=household.estate_id,
                                        building=household.building))
            except ServiceError as exc:
                flash(exc.message, "error")
        else:
            flash("有题目需要修改，请看标红的提示。", "error")
        values = _values_from_form(survey, request.form)
        status = 422
    response = services.current_response(survey, household) if household else None
    notes: dict[int, str] = {}
    if household is not None and not values:
        values = _values_from_answers(response)
        if not current_user.sees_personal_data:
            # Free text may carry names and phone numbers: show it masked, and do not put it in the form.
            from portal.core.masking import text_for

            for q in survey.questions:
                if q.kind == QuestionKind.text and values.get(q.id, {}).get("text"):
                    notes[q.id] = text_for(current_user, values[q.id]["text"])
                    values[q.id]["text"] = ""
    history = services.response_history(response) if response else []
    return render_template("surveys/paper.html", survey=survey, lookup=lookup, household=household,
                           questions=_questions_data(survey), values=values, errors=errors, response=response,
                           notes=notes, history=history, status=survey.status(services.local_today()),
                           answer_display=services.answer_display), status


# --- staff: results -----------------------------------------------------------------------------

def _chart_data(results) -> list[dict[str, Any]]:
    charts = []
    for q in results.questions:
        if q.is_text or not q.total.answered:
            continue
        charts.append({"id": f"chart-q{q.question.id}", "labels": q.labels,
                       "groups": [g.label for g in q.groups],
                       "series": [{"name": label, "data": [g.counts[i] for g in q.groups]}
                                  for i, label in enumerate(q.labels)],
                       "totals": q.total.counts})
    return charts


@bp.get("/<int:survey_id>/results")
@roles_required(*PLACE_EDITORS)
def results(survey_id: int):
    from nlp.themes import THEMES

    from portal.core.masking import text_for

    survey = _survey(survey_id)
    theme = request.args.get("theme") or None
    theme = theme if theme in {t.code for t in THEMES} else None
    data = survey_results.compute(survey, request.args.get("by", "building"), theme)
    return render_template("surveys/results.html", survey=survey, results=data, theme=theme, themes=THEMES,
                           charts=_chart_data(data), text_for=lambda text: text_for(current_user, text),
                           status=survey.status(services.local_today()), status_labels=STATUS_LABELS,
                           matter_rules=MATTER_RULES, action_form=EmptyForm())


@bp.get("/<int:survey_id>/results.xlsx")
@roles_required(*PLACE_EDITORS)
def export(survey_id: int):
    from portal.jobs import exports as job_exports
    from portal.surveys import tasks

    survey = _survey(survey_id)
    responses = exports.response_count(survey)
    if job_exports.over_inline_limit(responses):  # too big for one request: a background job, with progress
        job = job_exports.start_export(current_user, tasks.EXPORT_KIND,
                                       tasks.export_payload(survey, request.args.get("by", "building")))
        flash(f"共 {responses} 份答卷，已转为后台导出；完成后在本页下载。", "success")
        return redirect(url_for("jobs.export_page", job_id=job.id))
    data = survey_results.compute(survey, request.args.get("by", "building"))
    buffer = exports.results_workbook(data, current_user)
    services.record_export(current_user, survey, data.responses)
    return send_file(buffer, as_attachment=True, download_name=f"{survey.title}-调查结果.xlsx", mimetype=XLSX)


@bp.post("/<int:survey_id>/retag")
@roles_required(*PLACE_EDITORS)
def retag(survey_id: int):
    survey = _survey(survey_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        count = services.retag_answers(current_user, survey)
        flash(f"已识别 {count} 条意见的主题。" if count else "没有待识别的意见。", "success")
    except ServiceError as exc:
        flash(exc.message, "error")
    return redirect(url_for("surveys.results", survey_id=survey.id))


# --- residents (no login) -----------------------------------------------------------------------

def _public_limit() -> str:
    return current_app.config.get("SURVEY_PUBLIC_RATE_LIMIT", "120 per minute")


def _code_ip_limit() -> str:
    return current_app.config.get("SURVEY_CODE_IP_LIMIT", "10 per minute;60 per hour")


def _code_household_limit() -> str:
    return current_app.config.get("SURVEY_CODE_HOUSEHOLD_LIMIT", "5 per 15 minutes;20 per day")


def _household_key() -> str:
    """Wrong codes are counted per door too, so guessing from many addresses does not help."""
    form = request.form
    from portal.areas.roster import normalise_room, normalise_unit

    return "survey-door:" + "/".join([
        (request.view_args or {}).get("slug", ""), form.get("estate_id", "")[:12],
        normalise_building(form.get("building", ""))[:32], normalise_unit(form.get("unit", ""))[:32],
        normalise_room(form.get("room", ""))[:32]])


def _wrong_code(response) -> bool:
    return response.status_code == 422


limiter.limit(_public_limit)(public_bp)


@public_bp.errorhandler(429)
def too_many(error):
    return render_template("surveys/public/limited.html"), 429


@public_bp.after_request
def no_store(response):
    response.headers["Cache-Control"] = "no-store"  # a shared phone must not show the last household's answers
    return response


def _public_survey(slug: str) -> Survey:
    survey = db.session.scalar(select(Survey).where(Survey.slug == slug[:16]))
    if survey is None:
        abort(404)
    return survey


def _remember(survey: Survey, household: Household) -> None:
    known = {k: v for k, v in (session.get(SESSION_KEY) or {}).items() if time.time() - v.get("t", 0) < SESSION_SECONDS}
    known[survey.slug] = {"h": household.id, "t": int(time.time()), "f": services.code_fingerprint(household)}
    session[SESSION_KEY] = dict(list(known.items())[-5:])


def _forget(survey: Survey) -> None:
    known = dict(session.get(SESSION_KEY) or {})
    known.pop(survey.slug, None)
    session[SESSION_KEY] = known


def _remembered(survey: Survey) -> Optional[Household]:
    entry = (session.get(SESSION_KEY) or {}).get(survey.slug)
    if not isinstance(entry, dict) or time.time() - entry.get("t", 0) > SESSION_SECONDS:
        return None
    household = db.session.get(Household, entry.get("h")) if isinstance(entry.get("h"), int) else None
    if household is None or not services.household_in_scope(survey, household):
        return None
    if entry.get("f") != services.code_fingerprint(household):
        return None  # the code was regenerated since: ask for the new one
    return household


def _start_page(survey: Survey, form: IdentifyForm, error: Optional[str] = None, status: int = 200):
    return render_template("surveys/public/start.html", survey=survey, form=form, error=error,
                           status=survey.status(services.local_today()), household=_remembered(survey)), status


@public_bp.route("/<slug>", methods=["GET", "POST"])
@limiter.limit(_code_ip_limit, methods=["POST"], deduct_when=_wrong_code)
@limiter.limit(_code_household_limit, methods=["POST"], key_func=_household_key, deduct_when=_wrong_code)
def start(slug: str):
    survey = _public_survey(slug)
    form = IdentifyForm()
    form.estate_id.choices = [(e.id, e.name) for e in survey.estates]
    if request.method == "GET":
        args = request.args
        form.estate_id.data = args.get("e", type=int) or (survey.estate_ids[0] if survey.estate_ids else None)
        form.building.data = (args.get("b") or "")[:32]
        form.unit.data = (args.get("u") or "")[:32]
        form.room.data = (args.get("r") or "")[:32]
        return _start_page(survey, form)
    status = survey.status(services.local_today())
    if status != "open":
        return _start_page(survey, form, status=403)
    if not form.validate_on_submit():
        return _start_page(survey, form, "请把楼栋、房号和入户码填写完整。", 400)
    try:
        household = services.verify_household(survey, form.estate_id.data, form.building.data, form.unit.data or "",
                                              form.room.data, form.code.data)
    except ServiceError as exc:
        form.code.data = ""
        return _start_page(survey, form, exc.message, 422)
    _remember(survey, household)
    return redirect(url_for("survey_public.answer", slug=survey.slug))


@public_bp.route("/<slug>/answer", methods=["GET", "POST"])
def answer(slug: str):
    survey = _public_survey(slug)
    household = _remembered(survey)
    if household is None:
        flash("请先输入楼栋、房号和入户码。", "warning")
        return redirect(url_for("survey_public.start", slug=survey.slug))
    status = survey.status(services.local_today())
    if status != "open":
        return redirect(url_for("survey_public.start", slug=survey.slug))
    response = services.current_response(survey, household)
    errors: dict[int, str] = {}
    error = None
    http_status = 200
    values = _values_from_answers(response)
    if request.method == "POST":
        if not EmptyForm().validate_on_submit():
            flash("页面停留太久已过期，请重新选择后再提交。", "warning")
            return redirect(url_for("survey_public.answer", slug=survey.slug))
        answers, errors = services.parse_answers(survey, request.form)
        if not errors:
            try:
                services.submit_response(None, survey, household, answers, Channel.online)
                return redirect(url_for("survey_public.thanks", slug=survey.slug))
            except ServiceError as exc:
                error = exc.message
        else:
            error = "还有题目需要填写或修改，请看下面标红的提示。"
        values = _values_from_form(survey, request.form)
        http_status = 422
    return render_template("surveys/public/answer.html", survey=survey, questions=_questions_data(survey),
                           values=values, errors=errors, error=error, preview=False, household=household,
                           response=response, status=status), http_status


@public_bp.get("/<slug>/thanks")
def thanks(slug: str):
    survey = _public_survey(slug)
    household = _remembered(survey)
    if household is None:
        return redirect(url_for("survey_public.start", slug=survey.slug))
    response = services.current_response(survey, household)
    if response is None:
        return redirect(url_for("survey_public.answer", slug=survey.slug))
    mine = {a.question_id: a for a in response.answers}
    summary = [(n, q, services.answer_display(q, mine.get(q.id))) for n, q in enumerate(survey.questions, start=1)]
    return render_template("surveys/public/thanks.html", survey=survey, household=household, response=response,
                           summary=summary, status=survey.status(services.local_today()), form=EmptyForm())


@public_bp.post("/<slug>/leave")
def leave(slug: str):
    survey = _public_survey(slug)
    if EmptyForm().validate_on_submit():
        _forget(survey)
        flash("已退出。下一户可以输入自己的楼栋、房号和入户码。", "success")
    return redirect(url_for("survey_public.start", slug=survey.slug))


@bp.app_template_filter("legal_percent")
def legal_percent(value) -> str:
    from portal.surveys.tally import percent

    return percent(value)
