"""Survey results as an Excel workbook: scoped by the caller, free text masked by role, no access codes
(only their hashes exist) and no owner ID numbers. A direct download, or over EXPORT_INLINE_MAX_ROWS
responses a background job (surveys/tasks.py) writing the same workbook."""
from __future__ import annotations

import io

from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy import select

from portal.areas.models import Household
from portal.core.masking import text_for
from portal.core.workdays import to_local
from portal.extensions import db
from portal.jobs.exports import in_memory
from portal.surveys import tally as legal
from portal.surveys.models import MATTER_RULES, Survey, SurveyResponse
from portal.surveys.results import SurveyResults
from portal.surveys.services import in_targets

BOLD = Font(bold=True)
OVERVIEW_WIDTHS = {"A": 16, "B": 60}


def response_count(survey: Survey) -> int:
    """Responses the export lists (those of households in the survey's scope), without computing results:
    the route decides with it whether the export runs as a background job."""
    rows = db.session.execute(
        select(Household.building, Household.unit).join(SurveyResponse, SurveyResponse.household_id == Household.id)
        .where(SurveyResponse.survey_id == survey.id, Household.estate_id.in_(survey.estate_ids)))
    return sum(1 for building, unit in rows if in_targets(survey, building, unit))


def progress_total(results: SurveyResults) -> int:
    """The rows a job reports progress by: one per response (答卷明细) and per free-text answer (意见建议)."""
    return len(results.response_rows) + sum(len(q.texts) for q in results.questions)


def _title(sheet, text: str) -> None:
    cell = WriteOnlyCell(sheet, value=text)
    cell.font = BOLD
    sheet.append([cell])


def results_writer(results: SurveyResults, user):
    """Writes the five sheets into a write-only workbook (memory stays bounded for a large survey); calls
    row_written() after each response and free-text row. The direct download and the export job use it."""
    def write(workbook, row_written) -> None:
        _write_results(workbook, results, user, row_written)
    return write


def results_workbook(results: SurveyResults, user) -> io.BytesIO:
    return in_memory(results_writer(results, user))


def _write_results(workbook, results: SurveyResults, user, row_written) -> None:
    from nlp.themes import theme_name

    survey = results.survey
    overview = workbook.create_sheet("概况")
    for column, width in OVERVIEW_WIDTHS.items():  # a write-only sheet takes its widths before its rows
        overview.column_dimensions[column].width = width
    for row in [
        ["调查名称", survey.title],
        ["覆盖小区", "、".join(e.name for e in survey.estates)],
        ["调查时间", f"{survey.opens_on.isoformat()} 至 {survey.closes_on.isoformat()}"],
        ["表决事项", f"{survey.matter_type.label}：{MATTER_RULES[survey.matter_type]}"],
        ["表决范围", survey.tally_scope.label + (f"（{'、'.join(survey.scope_targets)}）" if survey.scope_targets else "")],
        ["范围内住户", results.households],
        ["已作答户数", results.responses],
        ["其中线上 / 纸质", f"{results.online} / {results.paper}"],
        ["作答率", None if results.response_rate is None else round(results.response_rate, 4)],
        ["说明", "本表不含入户码和业主证件号。租户可以作答，但不计入法定表决。"],
    ]:
        overview.append(row)
    if results.estates_without_roster:
        overview.append(["无住户名册的小区", "、".join(results.estates_without_roster)])

    stats = workbook.create_sheet("题目统计")
    by = "楼栋" if results.breakdown == "building" else "单元"
    for q in results.questions:
        _title(stats, f"第 {q.number} 题 {q.question.kind.label}：{q.question.text}")
        if q.is_text:
            stats.append(["作答数", q.total.answered])
            for code, count in q.theme_counts:
                stats.append([theme_name(code), count])
            stats.append([])
            continue
        stats.append(["选项", "户数", "占作答户比例"])
        for i, label in enumerate(q.labels):
            stats.append([label, q.total.counts[i], q.total.shares[i]])
        stats.append(["作答户数", q.total.answered])
        stats.append([by, "住户数", "作答户数", *q.labels] + (["平均分"] if q.question.kind.value == "scale" else []))
        for g in q.groups:
            stats.append([g.label, g.households, g.answered, *g.counts]
                         + ([None if g.mean is None else round(g.mean, 2)] if q.question.kind.value == "scale" else []))
        stats.append([])

    sheet = workbook.create_sheet("法定表决")
    sheet.append(["题号", "表决范围", "结论", "业主人数", "业主专有面积", "参与人数", "参与面积", "参与人数占比",
                  "参与面积占比", "同意人数", "同意面积", "同意人数占比（占参与）", "同意面积占比（占参与）",
                  "不同意人数", "弃权人数", "租户作答（不计入）", "还需参与人数", "还需参与面积",
                  "还需同意人数", "还需同意面积", "其余业主全部同意能否通过"])
    for consent in results.tallies:
        for row in consent.rows:
            t = row.result
            sheet.append([consent.number, row.label, t.verdict, t.owners, float(t.area), t.voters, float(t.voted_area),
                          legal.percent(t.participation_owner_ratio), legal.percent(t.participation_area_ratio),
                          t.yes_voters, float(t.yes_area), legal.percent(t.yes_owner_ratio),
                          legal.percent(t.yes_area_ratio), t.no_voters, t.abstain_voters, t.tenant_votes,
                          t.more_voters_needed, float(t.more_voted_area_needed), t.more_yes_voters_needed,
                          float(t.more_yes_area_needed), ("能" if t.reachable else "不能") if t.has_roster and t.owners else "—"])

    detail = workbook.create_sheet("答卷明细")
    detail.append(["小区", "楼栋", "单元", "房号", "业主/租户", "方式", "提交时间", "修改次数",
                   *[f"{n}. {q.text}" for n, q in enumerate(survey.questions, start=1)]])
    for row in results.response_rows:
        h, r = row["household"], row["response"]
        detail.append([row["estate_name"], h.building, h.unit, h.room, h.occupancy.label, r.channel.label,
                       to_local(r.submitted_at).strftime("%Y-%m-%d %H:%M"), r.version - 1,
                       *[text_for(user, shown) if q.kind.value == "text" else shown for q, shown in row["answers"]]])
        row_written()

    texts = workbook.create_sheet("意见建议")
    texts.append(["题号", "小区", "住户", "方式", "提交时间", "意见", "主题", "紧急"])
    for q in results.questions:
        for t in q.texts:
            texts.append([q.number, t.estate_name, t.household_label, t.channel.label,
                          to_local(t.submitted_at).strftime("%Y-%m-%d %H:%M"), text_for(user, t.text),
                          "、".join(theme_name(c) for c in t.themes) or ("待识别" if not t.tagged else ""),
                          "是" if t.urgent else ""])
            row_written()
