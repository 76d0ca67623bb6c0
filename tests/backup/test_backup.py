"""`flask backup create|verify|restore` on SQLite and PostgreSQL: a restored copy holds exactly the
records of the original; damaged, foreign or newer backups are refused and leave the database as it was."""
from __future__ import annotations

import io
import json
import os
import stat
import tarfile
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import delete, make_url, select, text, update

from portal.areas.models import Estate, Household
from portal.audit.models import Event
from portal.backup import services
from portal.backup.services import BackupError
from portal.extensions import db
from portal.surveys.models import SurveyResponse
from portal.tickets.models import Ticket
from tests.backup.builders import all_rows, build_district
from tests.conftest import make_test_app
from tests.helpers import make_ticket
from tests.surveys.conftest import fake_tag


@pytest.fixture
def district(app, monkeypatch):
    import portal.core.tagging as tagging

    monkeypatch.setattr(tagging, "tag_texts", lambda texts: [fake_tag(t) for t in texts])
    return build_district()


def cli(app, *args, input=None):
    return app.test_cli_runner().invoke(args=["backup", *args], input=input)


def mutate(world) -> None:
    """What a bad day does: deletions, edits and new rows in several tables."""
    db.session.execute(delete(Event).where(Event.object_type == "tickets"))
    db.session.execute(update(Household).values(area_m2="1.00"))
    db.session.execute(delete(SurveyResponse).where(SurveyResponse.household_id == world["household_ids"][1]))
    make_ticket("新的工单", estate=db.session.get(Estate, world["estate_id"]), themes=("parking",))
    db.session.commit()


def write_backup(path: Path, manifest: dict, data: bytes, gz: bool = True) -> Path:
    with tarfile.open(path, "w:gz" if gz else "w") as tar:
        for name, payload in (("manifest.json", json.dumps(manifest).encode()), (manifest["data_file"], data)):
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return path


def read_backup(path: Path) -> tuple[dict, bytes]:
    with tarfile.open(path, "r:*") as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
        return manifest, tar.extractfile(manifest["data_file"]).read()


def resealed(manifest: dict, data: bytes, **changes) -> dict:
    import hashlib

    return {**manifest, "data_sha256": hashlib.sha256(data).hexdigest(), "data_bytes": len(data), **changes}


@pytest.fixture
def backup_path(app, district, tmp_path):
    """The district backed up through the command line, and its rows as they were."""
    before = all_rows()
    path = tmp_path / "out" / ("district" + services.SUFFIXES[services.current_dialect()])
    result = cli(app, "create", "--output", str(path))
    assert result.exit_code == 0, result.output
    return path, before


def test_round_trip_restores_exactly_the_original(app, district, backup_path):
    path, before = backup_path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    manifest, _ = read_backup(path)
    assert manifest["dialect"] == db.engine.dialect.name
    assert manifest["alembic_revision"] == db.session.scalar(text("SELECT version_num FROM alembic_version"))
    assert manifest["tables"] == {name: len(rows) for name, rows in before.items()}
    assert manifest["tables"]["tickets"] == 3 and manifest["tables"]["survey_response_versions"] == 1
    assert manifest["created_at"].endswith("+00:00")
    # The backup itself is in the event log (after the snapshot, so not inside it).
    assert db.session.scalar(select(Event).where(Event.action == "backup.create")).note.startswith("数据库备份")

    mutate(district)
    assert all_rows() != before
    result = cli(app, "restore", str(path), "--yes")
    assert result.exit_code == 0, result.output
    assert "各表行数与清单一致" in result.output
    assert all_rows() == before

    # The app works on the restored database: ORM reads, then a new write gets a fresh id.
    assert db.session.scalar(select(Household.area_m2).where(Household.id == district["household_ids"][0])) == \
        district["area"]
    ticket = make_ticket("恢复后的新工单")
    assert ticket.id > max(row[0] for row in before["tickets"])


def test_verify_reads_without_restoring(app, district, backup_path):
    path, before = backup_path
    mutate(district)
    changed = all_rows()
    result = cli(app, "verify", str(path))
    assert result.exit_code == 0, result.output
    assert "备份完好" in result.output and f"{sum(map(len, before.values()))} 行" in result.output
    assert all_rows() == changed


def test_restore_into_a_database_with_data_asks_first(app, district, backup_path):
    path, before = backup_path
    mutate(district)
    changed = all_rows()
    refused = cli(app, "restore", str(path), input="n\n")
    assert refused.exit_code == 1 and "确定继续吗" in refused.output and "已取消，数据库未改变" in refused.output
    assert all_rows() == changed
    no_terminal = cli(app, "restore", str(path))  # no input at all (cron, CI): the answer is no
    assert no_terminal.exit_code == 1 and all_rows() == changed
    agreed = cli(app, "restore", str(path), input="y\n")
    assert agreed.exit_code == 0, agreed.output
    assert all_rows() == before


def test_default_output_is_private_under_instance(app, district):
    result = cli(app, "create")
    assert result.exit_code == 0, result.output
    folder = Path(app.instance_path) / "backups"
    (path,) = list(folder.iterdir())
    assert path.name.startswith(f"minsheng-{db.engine.dialect.name}-")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700 and stat.S_IMODE(path.stat().st_mode) == 0o600
    again = cli(app, "create", "--output", str(path))
    assert again.exit_code == 1 and "不会覆盖" in again.output


@pytest.mark.parametrize("damage", ["truncated", "flipped", "not_a_tar", "empty", "missing", "no_manifest",
                                    "bad_manifest", "broken_data"])
def test_damaged_backups_are_refused_and_the_database_is_unchanged(app, district, backup_path, tmp_path, damage):
    path, _ = backup_path
    raw = path.read_bytes()
    manifest, data = read_backup(path)
    gz = manifest["dialect"] == "sqlite"
    bad = tmp_path / f"bad-{damage}"
    if damage == "truncated":
        bad.write_bytes(raw[: len(raw) // 2])
    elif damage == "flipped":  # one byte of the data changed, manifest untouched: the checksum catches it
        middle = len(data) // 2
        write_backup(bad, manifest, data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:], gz)
    elif damage == "not_a_tar":
        bad.write_bytes(b"PK\x03\x04 this is a spreadsheet, not a backup")
    elif damage == "empty":
        bad.write_bytes(b"")
    elif damage == "missing":
        bad = tmp_path / "nowhere.tar"
    elif damage == "no_manifest":
        with tarfile.open(bad, "w") as tar:
            info = tarfile.TarInfo("data.sqlite3")
            info.size = 3
            tar.addfile(info, io.BytesIO(b"abc"))
    elif damage == "bad_manifest":
        with tarfile.open(bad, "w") as tar:
            info = tarfile.TarInfo("manifest.json")
            info.size = 9
            tar.addfile(info, io.BytesIO(b"{not json"))
    else:  # the data cut in half and the checksum made to fit: the dump itself is refused or rolled back
        half = data[: len(data) // 2]
        write_backup(bad, resealed(manifest, half), half, gz)
    mutate(district)
    changed = all_rows()
    result = cli(app, "restore", str(bad), "--yes")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    assert ("损坏" in result.output or "不存在" in result.output or "无法" in result.output
            or "不是民声的备份" in result.output or "数据库未改变" in result.output), result.output
    assert all_rows() == changed
    assert cli(app, "verify", str(bad)).exit_code == 1


def test_a_backup_from_the_other_database_is_refused(app, district, backup_path, tmp_path):
    path, _ = backup_path
    manifest, data = read_backup(path)
    other = "postgresql" if manifest["dialect"] == "sqlite" else "sqlite"
    forged = write_backup(tmp_path / "other.tar", {**manifest, "dialect": other,
                                                   "data_file": services.DATA_NAMES[other]}, data)
    mutate(district)
    changed = all_rows()
    result = cli(app, "restore", str(forged), "--yes")
    assert result.exit_code == 1 and "不能跨数据库恢复" in result.output
    assert all_rows() == changed


def test_a_backup_from_a_newer_schema_is_refused(app, district, backup_path, tmp_path):
    path, _ = backup_path
    manifest, data = read_backup(path)
    newer = write_backup(tmp_path / "newer.tar", {**manifest, "alembic_revision": "0099_from_the_future"}, data)
    mutate(district)
    changed = all_rows()
    result = cli(app, "restore", str(newer), "--yes")
    assert result.exit_code == 1 and "比本程序新" in result.output and "0099_from_the_future" in result.output
    assert all_rows() == changed


def test_a_manifest_that_lies_about_row_counts_fails_loudly(app, district, backup_path, tmp_path):
    path, _ = backup_path
    manifest, data = read_backup(path)
    lying = {**manifest, "tables": {**manifest["tables"], "tickets": manifest["tables"]["tickets"] + 1}}
    forged = write_backup(tmp_path / "lying.tar", lying, data, manifest["dialect"] == "sqlite")
    mutate(district)
    changed = all_rows()
    result = cli(app, "restore", str(forged), "--yes")
    assert result.exit_code == 1
    assert "行数" in result.output and "不符" in result.output and "tickets: 清单 4 / 实际 3" in result.output
    if manifest["dialect"] == "sqlite":  # SQLite's copy is counted before anything is replaced
        assert "未做任何恢复" in result.output and all_rows() == changed
    else:  # a dump is counted once restored: the restore is reported as untrustworthy
        assert "恢复结果不可信" in result.output


@pytest.fixture
def scratch_url(app, database_url, tmp_path):
    """An empty database of the same kind, for restoring somewhere new: a SQLite file, or a
    PostgreSQL database named after the test database and dropped afterwards."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'fresh' / 'restored.db'}"
        return
    import psycopg

    base = make_url(database_url)
    name = f"{base.database}_bk_{uuid.uuid4().hex[:8]}"
    admin_dsn = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_restore_into_an_empty_new_database(app, district, backup_path, scratch_url, tmp_path):
    path, before = backup_path
    other = make_test_app(scratch_url, tmp_path / "other")
    with other.app_context():
        try:
            result = other.test_cli_runner().invoke(args=["backup", "restore", str(path)])  # empty: no question
            assert result.exit_code == 0, result.output
            assert all_rows() == before
        finally:
            db.session.remove()
            db.engine.dispose()


def test_backup_is_consistent_while_the_app_writes(app, district, tmp_path, scratch_url):
    """Rows written during the backup are either wholly in it or not: the manifest matches the data."""
    import threading

    stop = threading.Event()
    written = []

    def writer():
        with app.app_context():
            while not stop.is_set() and len(written) < 400:
                make_ticket(f"并发写入 {len(written)}")
                written.append(1)
            db.session.remove()

    thread = threading.Thread(target=writer)
    thread.start()
    deadline = time.monotonic() + 20
    while len(written) < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        path, manifest = services.create_backup(tmp_path / ("busy" + services.SUFFIXES[services.current_dialect()]))
    finally:
        stop.set()
        thread.join(timeout=30)
    other = make_test_app(scratch_url, tmp_path / "other")
    with other.app_context():
        try:
            services.restore_backup(path)  # checks every table's count against the manifest
            assert manifest.tables["tickets"] >= 3 + 5
            # every ticket is written with its one theme row in one transaction: a torn copy would differ
            assert manifest.tables["ticket_themes"] == manifest.tables["tickets"]
            assert db.session.scalar(select(db.func.count()).select_from(Ticket)) == manifest.tables["tickets"]
        finally:
            db.session.remove()
            db.engine.dispose()


postgres_only = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs TEST_DATABASE_URL")


def _skip_unless_postgres():
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: checks pg_dump and pg_restore (runs in the PostgreSQL half)")


def test_missing_pg_dump_is_a_clear_error(app, district, monkeypatch, tmp_path):
    _skip_unless_postgres()
    monkeypatch.setattr(services.shutil, "which", lambda name: None)
    result = cli(app, "create", "--output", str(tmp_path / "x.tar"))
    assert result.exit_code == 1 and "找不到 pg_dump" in result.output and "postgresql-client" in result.output
    assert not (tmp_path / "x.tar").exists()


def test_an_old_pg_dump_is_refused_before_dumping(app, district, monkeypatch, tmp_path):
    _skip_unless_postgres()
    monkeypatch.setattr(services, "_tool_version", lambda path: "9.6")
    result = cli(app, "create", "--output", str(tmp_path / "x.tar"))
    assert result.exit_code == 1 and "pg_dump 版本 9.6 低于数据库服务器版本" in result.output
    assert not (tmp_path / "x.tar").exists() and not list(tmp_path.glob(".minsheng-backup-*"))


def test_an_old_pg_restore_is_refused_before_restoring(app, district, backup_path, monkeypatch):
    _skip_unless_postgres()
    path, _ = backup_path
    mutate(district)
    changed = all_rows()
    monkeypatch.setattr(services, "_tool_version", lambda path: "9.6")
    result = cli(app, "restore", str(path), "--yes")
    assert result.exit_code == 1 and "pg_restore 版本 9.6 低于制作备份的 pg_dump" in result.output
    assert all_rows() == changed


def test_a_dump_that_breaks_half_way_is_rolled_back(app, district, backup_path, tmp_path):
    """The archive's table of contents reads fine but a data block is garbage: pg_restore starts, fails,
    and its single transaction leaves every table as it was."""
    _skip_unless_postgres()
    path, _ = backup_path
    manifest, data = read_backup(path)
    broken = bytearray(data)
    for i in range(len(broken) - 400, len(broken) - 100):
        broken[i] ^= 0x55
    forged = write_backup(tmp_path / "broken.tar", resealed(manifest, bytes(broken)), bytes(broken), gz=False)
    mutate(district)
    changed = all_rows()
    result = cli(app, "restore", str(forged), "--yes")
    assert result.exit_code == 1 and "pg_restore 恢复（已整体回滚，数据库未改变）失败" in result.output, result.output
    assert all_rows() == changed


def test_a_postgres_database_with_extra_tables_is_refused(app, district, backup_path):
    _skip_unless_postgres()
    path, _ = backup_path
    db.session.execute(text("CREATE TABLE stray_table (id integer)"))
    db.session.commit()
    try:
        result = cli(app, "restore", str(path), "--yes")
        assert result.exit_code == 1 and "stray_table" in result.output
    finally:
        db.session.execute(text("DROP TABLE stray_table"))
        db.session.commit()


def test_a_postgres_backup_is_refused_by_a_sqlite_app(app, district, backup_path, tmp_path):
    _skip_unless_postgres()
    path, _ = backup_path
    sqlite_app = make_test_app(f"sqlite:///{tmp_path / 'lite.db'}", tmp_path / "lite")
    with sqlite_app.app_context():
        from flask_migrate import upgrade

        upgrade()
        before = all_rows()
        result = sqlite_app.test_cli_runner().invoke(args=["backup", "restore", str(path), "--yes"])
        assert result.exit_code == 1 and "备份来自 postgresql 数据库，而当前配置的是 sqlite" in result.output
        assert all_rows() == before
        db.session.remove()
        db.engine.dispose()
