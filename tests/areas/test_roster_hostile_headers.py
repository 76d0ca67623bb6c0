"""A roster whose header row is 190 long junk columns (just under the column limit): the refusal names a few, not all."""
import io

from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.areas.models import Household
from portal.extensions import db
from tests.helpers import csv_bytes, login, make_estate, make_user, xlsx_bytes

HOSTILE = [f"垃圾列{i:04d}" + "啊" * 120 for i in range(190)]


def test_missing_columns_message_is_capped(client, app):
    estate = make_estate()
    login(client, make_user(Role.street_staff, street=estate.street))
    for name, data in [("名册.csv", csv_bytes([HOSTILE, ["x"] * len(HOSTILE)])),
                       ("名册.xlsx", xlsx_bytes([HOSTILE, ["x"] * len(HOSTILE)]))]:
        response = client.post(f"/areas/estates/{estate.id}/roster", data={"file": (io.BytesIO(data), name)},
                               content_type="multipart/form-data")
        page = response.get_data(as_text=True)
        assert response.status_code == 422
        message = next(line for line in page.splitlines() if "缺少必需的列" in line)
        assert "缺少必需的列：楼栋、房号、面积。文件中的列为：垃圾列0000" in message
        assert "等 190 列。" in message and "垃圾列0019" in message and "垃圾列0020" not in message
        assert len(message) < 1200, len(message)
        assert "啊" * 40 not in page
    assert db.session.scalar(select(func.count()).select_from(Household)) == 0


def test_a_file_wider_than_the_column_limit_is_refused_before_mapping(client, app):
    from portal.core.tabular import MAX_COLUMNS

    estate = make_estate()
    login(client, make_user(Role.street_staff, street=estate.street))
    wide = ["楼栋", "单元", "房号", "专有部分面积"] + [f"垃圾列{i}" for i in range(MAX_COLUMNS)]
    response = client.post(f"/areas/estates/{estate.id}/roster",
                           data={"file": (io.BytesIO(csv_bytes([wide, ["1", "1", "101", "80"] + ["x"] * MAX_COLUMNS])),
                                          "名册.csv")},
                           content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code in (200, 422)
    assert f"表头有 {MAX_COLUMNS + 4} 列，超过 {MAX_COLUMNS} 列的上限" in page
    assert db.session.scalar(select(func.count()).select_from(Household)) == 0
