"""run_export with a writer of several sheets (the survey results): one private file with every sheet,
progress by the rows the writer reports, and on any failure no file and none of openpyxl's temp files;
in_memory builds the same workbook for a direct download."""
import stat

import pytest
from openpyxl.worksheet._writer import ALL_TEMP_FILES

from portal.jobs import exports
from portal.jobs.services import JobFailure, create_job
from tests.helpers import make_user
from tests.jobs.support import export_files, xlsx_book


@pytest.fixture
def app_config():
    return {"EXPORT_PROGRESS_EVERY": 2}


def two_sheets(fail_at=None):
    def write(workbook, row_written):
        for title, count in (("甲", 3), ("乙", 2)):
            sheet = workbook.create_sheet(title)
            sheet.append([f"{title}表头"])
            for i in range(count):
                if (title, i) == fail_at:
                    raise ValueError("boom")
                sheet.append([f"{title}{i}", i])
                row_written()
    return write


def test_a_writer_of_several_sheets_makes_one_private_file(app, monkeypatch):
    calls, recorded = [], []
    monkeypatch.setattr(exports, "set_progress", lambda job_id, done, total: calls.append((done, total)))
    job = create_job(make_user(), "tickets.export", {})
    result = exports.run_export(job, write=two_sheets(), total=5, download_name="x.xlsx", record=recorded.append)
    [path] = export_files(app)
    assert result["file"] == path.name and result["rows"] == 5 and recorded == [5]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    book = xlsx_book(path.read_bytes())
    assert book["sheets"] == ["甲", "乙"] and [r[0][0] for r in book["乙"]] == ["乙表头", "乙0", "乙1"]
    assert calls == [(0, 5), (2, 5), (4, 5), (5, 5)]
    assert xlsx_book(exports.in_memory(two_sheets()).getvalue()) == book


@pytest.mark.parametrize("fail_at", [("甲", 1), ("乙", 1)])
def test_a_writer_failing_in_any_sheet_leaves_no_file_nor_temp_files(app, fail_at):
    temp_files = list(ALL_TEMP_FILES)
    job = create_job(make_user(), "tickets.export", {})
    with pytest.raises(JobFailure) as failure:
        exports.run_export(job, write=two_sheets(fail_at), total=5, download_name="x.xlsx", record=lambda n: None)
    assert str(failure.value) == exports.FAILED
    assert export_files(app) == [] and ALL_TEMP_FILES == temp_files


def test_a_failing_direct_download_leaves_no_temp_files(app):
    temp_files = list(ALL_TEMP_FILES)
    with pytest.raises(ValueError):
        exports.in_memory(two_sheets(("乙", 0)))
    assert ALL_TEMP_FILES == temp_files


def test_the_one_sheet_form_still_works(app):
    job = create_job(make_user(), "tickets.export", {})
    result = exports.run_export(job, sheet_title="工单", header=["a"], rows=iter([[1], [2]]), total=2,
                                download_name="x.xlsx", record=lambda n: None)
    assert result["rows"] == 2
    [path] = export_files(app)
    assert xlsx_book(path.read_bytes())["工单"] == [[("a", False)], [(1, False)], [(2, False)]]
