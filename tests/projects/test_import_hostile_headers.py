"""A project list with 191 long, unknown and repeated headers (just under the column limit): each refusal
names at most 20."""
import io
import re

from sqlalchemy import func, select

from portal.extensions import db
from portal.projects.models import Project
from tests.helpers import csv_bytes, login, xlsx_bytes
from tests.projects.test_import import HEADER
from tests.projects.test_library import place  # noqa: F401  (the fixture)

JUNK = [f"未知列{i:04d}" + "哦" * 150 for i in range(120)]


def refusal(client, name, data) -> list[str]:
    response = client.post("/projects/import", data={"file": (io.BytesIO(data), name)},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "哦" * 40 not in page
    return re.findall(r"<li>(.*?)</li>", page, re.S)


def test_unknown_missing_and_repeated_headers_are_capped(client, place):  # noqa: F811
    login(client, place["staff"])
    headers = ["项目名称"] + JUNK + JUNK[:70]  # the required columns but one, junk, and junk again
    for name, data in [("p.csv", csv_bytes([headers, ["x"] * len(headers)])),
                       ("p.xlsx", xlsx_bytes([headers, ["x"] * len(headers)]))]:
        lines = refusal(client, name, data)
        missing, unknown, repeated = (next(l for l in lines if key in l) for key in ("缺少必需的列", "无法识别的列", "表头重复"))
        assert "文件中的列为：项目名称、未知列0000" in missing and f"等 {len(headers)} 列" in missing
        assert f"等 {len(JUNK) + 70} 列" in unknown and "未知列0019" in unknown and "未知列0020" not in unknown
        assert "等 70 列" in repeated
        for line in (missing, unknown, repeated):
            assert len(line) < 1200, len(line)
    assert db.session.scalar(select(func.count()).select_from(Project)) == 0


def test_a_few_unknown_headers_are_still_named_in_full(client, place):  # noqa: F811
    login(client, place["staff"])
    lines = refusal(client, "p.csv", csv_bytes([HEADER + ["备注栏"], ["x"] * (len(HEADER) + 1)]))
    assert any("无法识别的列：备注栏。" in line for line in lines), lines
