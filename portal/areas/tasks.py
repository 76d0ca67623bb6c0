"""A large estate's household roster export as a background job: the same rows as the direct download
(owner ID numbers masked for everyone), read as the user who asked, see portal.jobs.exports."""
from __future__ import annotations

from sqlalchemy import func, select

from portal.areas.models import Household
from portal.core.masking import mask_id_number
from portal.extensions import db

ROSTER_EXPORT_KIND = "areas.roster.export"
ROSTER_SHEET = "住户名册"
ROSTER_HEADER = ["楼栋", "单元", "房号", "专有部分面积", "业主/租户", "业主证件号"]


def roster_query(estate_id: int):
    return (select(Household).where(Household.estate_id == estate_id)
            .order_by(Household.building, Household.unit, Household.room))


def roster_size(estate_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Household).where(Household.estate_id == estate_id))


def roster_row(h: Household) -> list:
    """One household as exported: the direct download and the export job both use this."""
    return [h.building, h.unit, h.room, float(h.area_m2), h.occupancy.label, mask_id_number(h.owner_id_number)]


def roster_writer(households):
    from portal.jobs.exports import one_sheet

    return one_sheet(ROSTER_SHEET, ROSTER_HEADER, (roster_row(h) for h in households))


def roster_export_task(job) -> dict:
    from portal.areas.models import Estate
    from portal.audit.services import record_event
    from portal.core.scoping import PLACE_EDITORS
    from portal.jobs.exports import requesting_user, run_export, scoped_or_fail

    actor = requesting_user(job, PLACE_EDITORS)
    estate = scoped_or_fail(Estate, job.payload["args"]["estate_id"], actor, "小区")
    total = roster_size(estate.id)
    households = db.session.scalars(roster_query(estate.id).execution_options(yield_per=1000))

    def record(rows: int) -> None:
        record_event(actor, "export", estate, note=f"住户名册: {rows} 行; 后台任务 #{job.id}")

    return run_export(job, write=roster_writer(households), total=total,
                      download_name=f"{estate.name}-住户名册.xlsx", record=record)
