"""Places: thin views over areas.services, every lookup scoped to the user's street."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.areas import services
from portal.areas.forms import CommunityForm, EstateForm, HouseholdForm, RosterUploadForm, StreetForm
from portal.areas.models import Community, Estate, Household, Occupancy, Street
from portal.core.errors import ServiceError
from portal.core.masking import mask_id_number
from portal.core.scoping import ALL_STAFF, PLACE_EDITORS, get_scoped_or_404, roles_required, scoped
from portal.extensions import db

bp = Blueprint("areas", __name__, url_prefix="/areas")


def _streets():
    return db.session.scalars(scoped(select(Street).order_by(Street.name), Street)).all()


def _community_choices():
    stmt = scoped(select(Community).join(Street).order_by(Street.name, Community.name), Community)
    return [(c.id, f"{c.street.name} / {c.name}") for c in db.session.scalars(stmt)]


@bp.get("/")
@roles_required(*ALL_STAFF)
def index():
    streets = _streets()
    estate_rows = db.session.execute(
        scoped(select(Estate, func.count(Household.id)).outerjoin(Household).group_by(Estate.id), Estate)
    ).all()
    roster_sizes = {estate.id: size for estate, size in estate_rows}
    return render_template("areas/index.html", streets=streets, roster_sizes=roster_sizes)


@bp.route("/streets/new", methods=["GET", "POST"])
@roles_required(Role.district_admin)
def new_street():
    form = StreetForm()
    if form.validate_on_submit():
        try:
            street = services.create_street(current_user, form.name.data)
            flash(f"已创建街道「{street.name}」。", "success")
            return redirect(url_for("areas.index"))
        except ServiceError as exc:
            flash(exc.message, "error")
    return render_template("areas/form.html", form=form, title="新建街道")


@bp.route("/streets/<int:street_id>/edit", methods=["GET", "POST"])
@roles_required(Role.district_admin)
def edit_street(street_id: int):
    street = get_scoped_or_404(Street, street_id)
    form = StreetForm(obj=street)
    if form.validate_on_submit():
        try:
            services.update_street(current_user, street, form.name.data)
            flash("已保存。", "success")
            return redirect(url_for("areas.index"))
        except ServiceError as exc:
            flash(exc.message, "error")
    return render_template("areas/form.html", form=form, title=f"编辑街道：{street.name}")


@bp.route("/communities/new", methods=["GET", "POST"])
@roles_required(*PLACE_EDITORS)
def new_community():
    form = CommunityForm()
    form.street_id.choices = [(s.id, s.name) for s in _streets()]
    if form.validate_on_submit():
        try:
            community = services.create_community(current_user, form.street_id.data, form.name.data)
            flash(f"已创建社区「{community.name}」。", "success")
            return redirect(url_for("areas.index"))
        except ServiceError as exc:
            flash(exc.message, "error")
    return render_template("areas/form.html", form=form, title="新建社区")


@bp.route("/communities/<int:community_id>/edit", methods=["GET", "POST"])
@roles_required(*PLACE_EDITORS)
def edit_community(community_id: int):
    community = get_scoped_or_404(Community, community_id)
    form = CommunityForm(obj=community)
    form.street_id.choices = [(community.street_id, community.street.name)]
    if form.validate_on_submit():
        try:
            services.update_community(current_user, community, form.name.data)
            flash("已保存。", "success")
            return redirect(url_for("areas.index"))
        except ServiceError as exc:
            flash(exc.message, "error")
    return render_template("areas/form.html", form=form, title=f"编辑社区：{community.name}")


def _estate_input(form: EstateForm) -> services.EstateInput:
    return services.EstateInput(
        name=form.name.data,
        community_id=form.community_id.data,
        aliases=services.split_list(form.aliases.data),
        address_patterns=services.split_list(form.address_patterns.data),
        household_count=form.household_count.data or 0,
        built_year=form.built_year.data,
        latitude=form.latitude.data,
        longitude=form.longitude.data,
    )


@bp.route("/estates/new", methods=["GET", "POST"])
@roles_required(*PLACE_EDITORS)
def new_estate():
    form = EstateForm()
    form.community_id.choices = _community_choices()
    if request.method == "GET" and request.args.get("community_id", type=int):
        form.community_id.data = request.args.get("community_id", type=int)
    if form.validate_on_submit():
        try:
            estate = services.create_estate(current_user, _estate_input(form))
            flash(f"已创建小区「{estate.name}」。", "success")
            return redirect(url_for("areas.estate", estate_id=estate.id))
        except ServiceError as exc:
            flash(exc.message, "error")
    return render_template("areas/form.html", form=form, title="新建小区")


@bp.route("/estates/<int:estate_id>/edit", methods=["GET", "POST"])
@roles_required(*PLACE_EDITORS)
def edit_estate(estate_id: int):
    estate = get_scoped_or_404(Estate, estate_id)
    form = EstateForm(obj=estate)
    form.community_id.choices = _community_choices()
    if request.method == "GET":
        form.aliases.data = "\n".join(estate.aliases or [])
        form.address_patterns.data = "\n".join(estate.address_patterns or [])
    if form.validate_on_submit():
        try:
            services.update_estate(current_user, estate, _estate_input(form))
            flash("已保存。", "success")
            return redirect(url_for("areas.estate", estate_id=estate.id))
        except ServiceError as exc:
            flash(exc.message, "error")
    return render_template("areas/form.html", form=form, title=f"编辑小区：{estate.name}")


@bp.get("/estates/<int:estate_id>")
@roles_required(*ALL_STAFF)
def estate(estate_id: int):
    estate = get_scoped_or_404(Estate, estate_id)
    households = page = None
    stats = {}
    if current_user.role in PLACE_EDITORS:  # operators place tickets; they do not read rosters
        building = request.args.get("building", "").strip()
        stmt = select(Household).where(Household.estate_id == estate.id)
        if building:
            stmt = stmt.where(Household.building == building)
        page = db.paginate(stmt.order_by(Household.building, Household.unit, Household.room),
                           per_page=current_app.config["PAGE_SIZE"], error_out=False)
        households = page.items
        row = db.session.execute(
            select(func.count(), func.coalesce(func.sum(Household.area_m2), 0),
                   func.count(func.distinct(Household.building)))
            .where(Household.estate_id == estate.id)
        ).one()
        tenants = db.session.scalar(select(func.count()).where(
            Household.estate_id == estate.id, Household.occupancy == Occupancy.tenant))
        stats = {"households": row[0], "area": row[1], "buildings": row[2], "tenants": tenants}
    return render_template("areas/estate.html", estate=estate, households=households, page=page,
                           stats=stats, mask_id=mask_id_number)


def _household_input(form: HouseholdForm) -> services.HouseholdInput:
    from portal.areas.roster import normalise_building, normalise_room, normalise_unit

    return services.HouseholdInput(
        building=normalise_building(form.building.data),
        unit=normalise_unit(form.unit.data),
        room=normalise_room(form.room.data),
        area_m2=form.area_m2.data,
        occupancy=Occupancy(form.occupancy.data),
        owner_id_number=(form.owner_id_number.data or "").strip().upper() or None,
    )


@bp.route("/estates/<int:estate_id>/households/new", methods=["GET", "POST"])
@roles_required(*PLACE_EDITORS)
def new_household(estate_id: int):
    estate = get_scoped_or_404(Estate, estate_id)
    form = HouseholdForm()
    if form.validate_on_submit():
        try:
            household = services.create_household(current_user, estate, _household_input(form))
            flash(f"已添加 {household.label}。", "success")
            return redirect(url_for("areas.estate", estate_id=estate.id))
        except ServiceError as exc:
            flash(exc.message, "error")
    return render_template("areas/form.html", form=form, title=f"{estate.name}：添加住户")


@bp.route("/households/<int:household_id>/edit", methods=["GET", "POST"])
@roles_required(*PLACE_EDITORS)
def edit_household(household_id: int):
    household = get_scoped_or_404(Household, household_id)
    form = HouseholdForm(obj=household)
    if request.method == "GET":
        form.occupancy.data = household.occupancy.value
        form.owner_id_number.data = ""  # never echo the full ID back into the page
    if form.validate_on_submit():
        data = _household_input(form)
        if data.owner_id_number is None:
            data.owner_id_number = household.owner_id_number  # blank keeps the stored number
        try:
            services.update_household(current_user, household, data)
            flash("已保存。", "success")
            return redirect(url_for("areas.estate", estate_id=household.estate_id))
        except ServiceError as exc:
            flash(exc.message, "error")
    return render_template("areas/form.html", form=form, title=f"编辑住户：{household.estate.name} {household.label}",
                           hint="业主证件号留空表示不修改。")


@bp.route("/estates/<int:estate_id>/roster", methods=["GET", "POST"])
@roles_required(*PLACE_EDITORS)
def roster(estate_id: int):
    estate = get_scoped_or_404(Estate, estate_id)
    form = RosterUploadForm()
    report = None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            summary = services.import_roster(current_user, estate, upload.filename or "", upload.read(),
                                             max_rows=current_app.config["ROSTER_MAX_ROWS"])
            flash(f"导入成功：新增 {summary.created} 户，更新 {summary.updated} 户，"
                  f"未变 {summary.unchanged} 户。", "success")
            return redirect(url_for("areas.estate", estate_id=estate.id))
        except services.RosterImportError as exc:
            flash(exc.message, "error")
            report = exc.parse
    status = 422 if report is not None else 200
    return render_template("areas/roster.html", estate=estate, form=form, report=report), status


@bp.get("/estates/<int:estate_id>/roster.xlsx")
@roles_required(*PLACE_EDITORS)
def export_roster(estate_id: int):
    from portal.areas import tasks
    from portal.jobs import exports

    estate = get_scoped_or_404(Estate, estate_id)
    size = tasks.roster_size(estate.id)
    if exports.over_inline_limit(size):  # too big for one request: a background job, with progress
        job = exports.start_export(current_user, tasks.ROSTER_EXPORT_KIND, {"args": {"estate_id": estate.id}})
        flash(f"共 {size} 户，已转为后台导出；完成后在本页下载。", "success")
        return redirect(url_for("jobs.export_page", job_id=job.id))
    households = db.session.scalars(tasks.roster_query(estate.id)).all()
    buffer = exports.in_memory(tasks.roster_writer(households))
    services.record_export(current_user, estate, "住户名册", len(households))
    return send_file(buffer, as_attachment=True, download_name=f"{estate.name}-住户名册.xlsx",
                     mimetype=exports.XLSX_MIMETYPE)


@bp.get("/roster-template.csv")
@roles_required(*PLACE_EDITORS)
def roster_template():
    text = "楼栋,单元,房号,专有部分面积,业主/租户,业主证件号\n1,1,101,86.50,业主,\n1,1,102,72.30,租户,\n"
    return current_app.response_class(
        "\ufeff" + text, mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=roster-template.csv"},
    )
