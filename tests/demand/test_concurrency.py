"""Two transactions writing signals for the same estate and day at once (two residents of one estate
answering together, or an import beside a confirmation) both land, and the rollups stay exact."""
import threading
import time
from datetime import datetime

from sqlalchemy import func, select

from portal.demand.models import DemandDailyCount, DemandStreetDailyCount, DemandSignal, SignalSource
from portal.demand.services import SignalInput, replace_many
from portal.extensions import db
from tests.demand.test_queries import rollup_equals_group_by
from tests.helpers import make_estate

AT = datetime(2026, 11, 20, 3, 0)


def test_a_second_writer_waits_for_the_first_and_both_count(app):
    estate = make_estate(household_count=100)
    replace_many(SignalSource.survey, {"0": [SignalInput(estate.id, "parking", AT, "r0")]})
    db.session.commit()

    replace_many(SignalSource.survey, {"1": [SignalInput(estate.id, "parking", AT, "r1")]})  # not committed yet
    outcome = {}

    def second_writer():
        with app.app_context():
            try:
                replace_many(SignalSource.hotline, {"2": [SignalInput(estate.id, "parking", AT, "r2")]})
                db.session.commit()
                outcome["ok"] = True
            except Exception as exc:  # reported below
                outcome["error"] = repr(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    thread = threading.Thread(target=second_writer)
    thread.start()
    time.sleep(0.5)  # the second writer is now waiting on the first one's lock
    db.session.commit()
    thread.join(timeout=30)
    assert outcome == {"ok": True}
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(DemandSignal)) == 3
    assert db.session.scalar(select(func.sum(DemandDailyCount.n))) == 3
    assert db.session.scalar(select(func.sum(DemandStreetDailyCount.n))) == 3
    assert rollup_equals_group_by()
