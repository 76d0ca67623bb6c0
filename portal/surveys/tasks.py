"""A large survey's results export as a background job: the same workbook as the direct download, read as
the user who asked (their scope, their masking), see portal.jobs.exports."""
from __future__ import annotations

from portal.surveys.results import BREAKDOWNS

EXPORT_KIND = "surveys.export"


def export_payload(survey, breakdown: str) -> dict:
    """What travels to the job, and to its page's back link (the results page it came from)."""
    return {"args": {"survey_id": survey.id, "by": breakdown if breakdown in BREAKDOWNS else "building"}}


def export_note(survey, responses: int) -> str:
    return f"意愿调查结果导出：{survey.title}，{responses} 份答卷（不含入户码）"


def export_task(job) -> dict:
    from portal.audit.services import record_event
    from portal.core.scoping import PLACE_EDITORS
    from portal.jobs.exports import requesting_user, run_export, scoped_or_fail
    from portal.surveys import exports, results as survey_results
    from portal.surveys.models import Survey

    actor = requesting_user(job, PLACE_EDITORS)
    args = job.payload["args"]
    survey = scoped_or_fail(Survey, args["survey_id"], actor, "意愿调查")
    data = survey_results.compute(survey, args.get("by", "building"))

    def record(_rows: int) -> None:
        record_event(actor, "export", survey, note=f"{export_note(survey, data.responses)}；后台任务 #{job.id}")

    result = run_export(job, write=exports.results_writer(data, actor), total=exports.progress_total(data),
                        download_name=f"{survey.title}-调查结果.xlsx", record=record)
    texts = sum(len(q.texts) for q in data.questions)
    return {**result, "summary": f"{data.responses} 份答卷、{texts} 条意见建议"}  # what the rows are, on its page
