"""One response per household, even when two processes submit for the same household at the same moment
(on SQLite and, with TEST_DATABASE_URL, PostgreSQL)."""
import multiprocessing
from pathlib import Path

from sqlalchemy import func, select

from portal.extensions import db
from portal.surveys.models import QuestionKind, SurveyAnswer, SurveyResponse, SurveyResponseVersion
from tests.surveys.builders import question

ROUNDS = 4


def _submit_in_another_process(database_url, instance, survey_id, household_id, choice, barrier, outcomes):
    """A second app in a second process, as with several gunicorn workers."""
    import logging

    logging.disable(logging.CRITICAL)
    from portal.areas.models import Household
    from portal.surveys import services
    from portal.surveys.models import Survey
    from tests.conftest import make_test_app

    app = make_test_app(database_url, Path(instance))
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        household = db.session.get(Household, household_id)
        consent = next(q for q in survey.questions if q.kind == QuestionKind.consent)
        answer = {consent.id: services.AnswerInput(consent.id, [choice])}
        barrier.wait(timeout=60)
        for _ in range(ROUNDS):
            try:
                services.submit_response(None, survey, household, answer)
                outcomes.put(("ok", choice))
            except Exception as exc:  # reported to the test, which fails on it
                outcomes.put(("error", repr(exc)))
        db.session.remove()
        db.engine.dispose()


def test_concurrent_submissions_leave_exactly_one_current_response(app, estate_world, database_url, tmp_path):
    survey_id, household_id = estate_world["survey"].id, estate_world["households"]["301"].id
    consent_id = question(estate_world["survey"], QuestionKind.consent).id
    db.session.remove()  # the test's own connection stays out of the way
    context = multiprocessing.get_context("spawn")
    barrier, outcomes = context.Barrier(2), context.Queue()
    workers = [context.Process(target=_submit_in_another_process,
                               args=(database_url, str(tmp_path / f"w{choice}"), survey_id, household_id, choice,
                                     barrier, outcomes))
               for choice in (0, 1)]
    for worker in workers:
        worker.start()
    results = [outcomes.get(timeout=120) for _ in range(2 * ROUNDS)]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert all(status == "ok" for status, _ in results), results

    rows = db.session.scalars(select(SurveyResponse).where(SurveyResponse.household_id == household_id)).all()
    assert len(rows) == 1  # exactly one current response
    current = rows[0]
    assert current.version == 2 * ROUNDS  # every submission counted, none lost
    versions = db.session.scalars(select(SurveyResponseVersion.version)
                                  .where(SurveyResponseVersion.response_id == current.id)
                                  .order_by(SurveyResponseVersion.version)).all()
    assert versions == list(range(1, 2 * ROUNDS))  # the history: every replaced answer, each once
    answers = db.session.scalars(select(SurveyAnswer).where(SurveyAnswer.response_id == current.id)).all()
    assert len(answers) == 1 and answers[0].question_id == consent_id and answers[0].choices[0] in (0, 1)
    assert db.session.scalar(select(func.count()).select_from(SurveyAnswer)) == 1
