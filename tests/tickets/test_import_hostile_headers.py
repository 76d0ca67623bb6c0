"""A ticket export with 190 long unknown headers (just under the column limit): the mapping request names 20 of them."""
import io

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.extensions import db
from portal.jobs.models import Job
from portal.tickets.importer import MappingNeeded, import_tickets
from portal.tickets.models import Ticket
from tests.helpers import csv_bytes, login, make_user

HOSTILE = [f"奇怪列{i:04d}" + "嗯" * 120 for i in range(190)]


@pytest.fixture
def app_config():
    return {"JOBS_INLINE": True}  # the import job runs in the request, as a worker would run it


def test_mapping_message_is_capped(client, app):
    operator = make_user(Role.operator)
    data = csv_bytes([["受理时间"] + HOSTILE, ["2024-03-05"] + ["x"] * len(HOSTILE)])
    with pytest.raises(MappingNeeded) as needed:
        import_tickets(operator, "t.csv", data)
    message = needed.value.message
    assert message.startswith("缺少必需的列：工单编号、诉求内容。无法识别的列：奇怪列0000")
    assert "等 190 列。" in message and "奇怪列0019" in message and "奇怪列0020" not in message
    assert len(message) < 1200, len(message)
    assert len(needed.value.unknown_headers) == 190  # the mapping form still offers every column

    login(client, operator)
    response = client.post("/tickets/import", data={"file": (io.BytesIO(data), "t.csv")},
                           content_type="multipart/form-data", follow_redirects=True)
    assert response.status_code == 200
    job = db.session.scalars(select(Job).order_by(Job.id.desc())).first()
    db.session.refresh(job)
    assert job.message == message
    page = response.get_data(as_text=True)
    flash = next(line for line in page.splitlines() if "flash-error" in line)
    assert "等 190 列" in flash and len(flash) < 1300
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0
