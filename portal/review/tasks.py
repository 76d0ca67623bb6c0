"""The retraining job: the project corpus plus staff corrections, judged before and after."""
from __future__ import annotations

from pathlib import Path

from portal.extensions import db
from portal.jobs.services import JobFailure, set_progress
from portal.review.models import ModelStatus, ThemeModel
from portal.review.services import corrections_for_training, is_held_back, models_dir

STEPS = 4
BUILTIN_TEST_SET = Path(__file__).resolve().parents[2] / "nlp" / "data" / "holdout.csv"


def _summary(result: dict) -> dict:
    keys = ("n", "micro_f1", "macro_f1", "accuracy")
    out = {k: result.get(k) for k in keys}
    if "urgent" in result:
        out["urgent_f1"] = result["urgent"].get("f1")
    return out


def _before_after(current, candidate, records) -> dict | None:
    from nlp.training import evaluate

    if not records:
        return None
    return {"before": _summary(evaluate(current, records, n_jobs=1)),
            "after": _summary(evaluate(candidate, records, n_jobs=1))}


def retrain_task(job) -> dict:
    from nlp.training import Record, corpus_records, load_labelled_csv, train

    from portal.core.tagging import get_tagger

    set_progress(job.id, 0, STEPS)
    corrections = corrections_for_training()
    as_record = lambda c: Record(text=c.text, labels=tuple(c.themes), urgent=c.urgent)  # noqa: E731
    held = [as_record(c) for c in corrections if is_held_back(c.text)]
    used = [as_record(c) for c in corrections if not is_held_back(c.text)]
    if not used:
        raise JobFailure(f"人工核对的记录还太少（{len(corrections)} 条，全部留作检验），请积累更多后再训练。")
    try:
        current = get_tagger()
    except RuntimeError as exc:
        raise JobFailure(f"当前模型无法加载：{exc}")
    set_progress(job.id, 1, STEPS)

    candidate = train(corpus_records(), extra=used, source=f"corpus + {len(used)} corrections")
    set_progress(job.id, 2, STEPS)

    evaluation = {
        "held_back": _before_after(current, candidate, held),
        "builtin": _before_after(current, candidate, load_labelled_csv([BUILTIN_TEST_SET])),
        "current_version": current.version,
        "cv": candidate.metadata.get("scores", {}).get("cv"),
    }
    set_progress(job.id, 3, STEPS)

    if db.session.scalar(db.select(ThemeModel.id).where(ThemeModel.version == candidate.version)):
        raise JobFailure(f"训练结果与已有模型 {candidate.version} 完全相同，无需再次启用。")
    path = candidate.save(models_dir() / f"{candidate.version}.joblib")
    model = ThemeModel(version=candidate.version, path=str(path), status=ModelStatus.candidate,
                       base_version=current.version, n_corrections=len(used), n_held_back=len(held),
                       evaluation=evaluation, job_id=job.id, created_by_id=job.created_by_id)
    db.session.add(model)
    db.session.commit()
    set_progress(job.id, STEPS, STEPS)
    return {"model_id": model.id, "version": model.version}
