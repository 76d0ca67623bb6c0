"""Retraining from the corpus plus corrections: a background job, an evaluation before and after, and
district_admin promoting or discarding the new model. Trains a real model once (about half a minute)."""
import pytest
from sqlalchemy import select

from portal.accounts.models import Role
from portal.audit.models import Event
from portal.core.tagging import get_tagger, tag_text
from portal.extensions import db
from portal.jobs.models import Job, JobStatus
from portal.review.models import ModelStatus, TagCorrection, ThemeModel
from portal.review.services import is_held_back
from tests.helpers import login, make_community, make_estate, make_street, make_ticket, make_user

pytestmark = pytest.mark.tagging

# Hand-written staff decisions: a district where "飞线" complaints about a new 充电棚 keep being mis-tagged.
DECISIONS = [
    ("新建的充电棚插座坏了一半，电动车又开始拉线到楼上充", ["ev_charging"]),
    ("充电棚刷卡机不识别卡，大家只好在楼道里充电", ["ev_charging", "fire_safety"]),
    ("充电棚晚上没灯，插头都找不到", ["ev_charging", "lighting"]),
    ("电瓶车充电口收费太贵了，一小时一块钱", ["ev_charging"]),
    ("2号楼门口的充电桩被汽车占着充不了", ["ev_charging", "parking"]),
    ("充电棚顶棚漏雨，插座进水跳闸", ["ev_charging"]),
    ("居民反映充电棚太远，走过去要十分钟", ["ev_charging"]),
    ("小区南门充电桩扫码一直显示离线", ["ev_charging"]),
    ("楼下那块空地改成充电车棚的事还办不办", ["ev_charging", "renovation"]),
    ("充电棚旁边堆满纸箱子，担心起火", ["ev_charging", "fire_safety"]),
]


@pytest.fixture
def app_config():
    return {"JOBS_INLINE": True}


@pytest.fixture
def world(app):
    heping = make_street("和平街道")
    guihua = make_estate(make_community(heping, "桂花社区"), "桂花苑")
    admin, staff = make_user(Role.district_admin), make_user(Role.street_staff, street=heping)
    for text, themes in DECISIONS:
        db.session.add(TagCorrection(source="hotline", record_id=text[:8], street_id=heping.id, text=text,
                                     themes=themes, urgent=False, previous_themes=["other"], changed=True,
                                     actor_id=staff.id))
    db.session.commit()
    return {"admin": admin, "staff": staff, "guihua": guihua, "heping": heping}


def test_only_district_admin_manages_models(client, world):
    login(client, world["staff"])
    assert client.get("/review/models").status_code == 403
    assert client.post("/review/models/retrain").status_code == 403
    assert db.session.scalar(select(Job.id)) is None


def test_retraining_without_corrections_is_refused(client, world):
    db.session.execute(TagCorrection.__table__.delete())
    db.session.commit()
    login(client, world["admin"])
    response = client.post("/review/models/retrain", follow_redirects=True)
    assert "还没有人工核对过的记录" in response.get_data(as_text=True)
    assert db.session.scalar(select(Job.id)) is None


def test_retrain_evaluate_promote_and_go_back(client, world, output_dir):
    old_version = get_tagger().version
    before = make_ticket("旧记录", estate=world["guihua"], street=world["heping"], model_version=old_version)
    login(client, world["admin"])
    response = client.post("/review/models/retrain")
    assert response.status_code == 302  # the job ran inline (tests); the page then shows the result
    job = db.session.scalars(select(Job).where(Job.kind == "retrain")).one()
    assert job.status == JobStatus.done, job.message
    model = db.session.scalars(select(ThemeModel)).one()
    assert model.status == ModelStatus.candidate and model.base_version == old_version
    held = sum(is_held_back(text) for text, _ in DECISIONS)
    assert (model.n_corrections, model.n_held_back) == (len(DECISIONS) - held, held)
    builtin = model.evaluation["builtin"]
    assert builtin["before"]["n"] == builtin["after"]["n"] >= 80
    assert 0 < builtin["after"]["micro_f1"] <= 1 and 0 < builtin["before"]["micro_f1"] <= 1
    if held:
        assert model.evaluation["held_back"]["after"]["n"] == held

    page = client.get(response.headers["Location"], follow_redirects=True).get_data(as_text=True)
    assert "训练前后对比" in page and "内置检验集" in page and "启用新模型" in page

    response = client.post(f"/review/models/{model.id}/promote", data={"note": "充电棚的记录改善明显"},
                           follow_redirects=True)
    assert f"已启用模型 {model.version}" in response.get_data(as_text=True)
    assert get_tagger().version == model.version != old_version
    assert tag_text("充电棚插座坏了").model_version == model.version
    db.session.refresh(before)
    assert before.model_version == old_version  # records keep the version that tagged them
    events = [e.action for e in db.session.scalars(select(Event).order_by(Event.id))]
    assert "model.retrain" in events and "model.promote" in events

    # the same data gives the same model: retraining again is refused with a clear message
    client.post("/review/models/retrain")
    second = db.session.scalars(select(Job).where(Job.kind == "retrain").order_by(Job.id.desc())).first()
    assert second.status == JobStatus.failed and "完全相同" in second.message

    response = client.post("/review/models/default", follow_redirects=True)
    assert "已恢复使用内置默认模型" in response.get_data(as_text=True)
    assert get_tagger().version == old_version


def test_discarding_deletes_the_candidate_file(client, world, tmp_path):
    from pathlib import Path

    path = tmp_path / "candidate.joblib"
    path.write_bytes(b"x")
    model = ThemeModel(version="m-test-candidate", path=str(path), status=ModelStatus.candidate, evaluation={})
    db.session.add(model)
    db.session.commit()
    login(client, world["admin"])
    response = client.post(f"/review/models/{model.id}/discard", data={"note": "没有改善"}, follow_redirects=True)
    assert "已放弃模型 m-test-candidate" in response.get_data(as_text=True)
    db.session.refresh(model)
    assert model.status == ModelStatus.discarded and not Path(path).exists()
    response = client.post(f"/review/models/{model.id}/promote", follow_redirects=True)
    assert "只有待决定的模型可以启用。" in response.get_data(as_text=True)


def test_with_redis_the_retraining_job_goes_on_the_queue(app, world):
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisDown
    from rq import Queue

    from portal.jobs.services import QUEUE_NAME
    from portal.review.services import RETRAIN_TASK, start_retraining

    redis = Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        redis.ping()
    except RedisDown:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    app.config.update(JOBS_INLINE=False, REDIS_URL="redis://127.0.0.1:6379/0")
    queue = Queue(QUEUE_NAME, connection=redis)
    job = start_retraining(world["admin"])
    try:
        queued = [j for j in queue.jobs if j.args == (job.id, RETRAIN_TASK)]
        assert len(queued) == 1 and queued[0].func_name == "portal.jobs.worker.run_in_app"
        assert db.session.get(Job, job.id).status == JobStatus.queued
    finally:
        for j in queue.jobs:
            if j.args and j.args[0] == job.id:
                j.delete()
