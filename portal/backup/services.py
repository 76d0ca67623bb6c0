"""Whole-database backups with a manifest, and restores that check it (README "备份与恢复 / Backups").

A backup is one tar file holding `manifest.json` and the data: a SQLite copy made with the online
backup API, or a PostgreSQL custom-format dump (pg_dump -Fc). The manifest records the dialect, the
Alembic revision, the row count of every table, when it was made and the data's SHA-256; a restore
refuses what does not fit and compares the row counts again afterwards.

Backups hold personal data (callers' phone numbers, owners' ID numbers): files are created 0600.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator, Optional

from flask import current_app
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from portal.extensions import db

FORMAT = 1
MANIFEST_NAME = "manifest.json"
DATA_NAMES = {"sqlite": "data.sqlite3", "postgresql": "data.pgdump"}
SUFFIXES = {"sqlite": ".tar.gz", "postgresql": ".tar"}  # a -Fc dump is compressed already
LOCK_TIMEOUT = "60s"  # a restore waits this long for running app processes to let go of a table
TOOL_TIMEOUT = 6 * 3600


class BackupError(Exception):
    """A refusal or failure the operator can act on; the message is Chinese, then English."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Manifest:
    dialect: str
    alembic_revision: str
    tables: dict[str, int]
    created_at: str
    data_file: str
    data_sha256: str
    data_bytes: int
    tool_version: Optional[str] = None  # pg_dump's "15.20"
    server_version: Optional[str] = None
    format: int = FORMAT
    app: str = "minsheng"

    @property
    def total_rows(self) -> int:
        return sum(self.tables.values())

    def to_json(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, raw: bytes) -> "Manifest":
        try:
            data = json.loads(raw.decode("utf-8"))
            if not isinstance(data, dict) or data.get("app") != "minsheng":
                raise ValueError("not a minsheng manifest")
            if data.get("format") != FORMAT:
                raise BackupError(f"备份格式版本 {data.get('format')!r} 不受支持（本程序读取版本 {FORMAT}）。"
                                  f" / Unsupported backup format {data.get('format')!r}.")
            tables = data["tables"]
            if not isinstance(tables, dict) or not all(isinstance(v, int) and v >= 0 for v in tables.values()):
                raise ValueError("bad table counts")
            manifest = cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})
            if manifest.dialect not in DATA_NAMES or manifest.data_file != DATA_NAMES[manifest.dialect]:
                raise ValueError("bad dialect or data file")
            if not isinstance(manifest.data_bytes, int) or not re.fullmatch(r"[0-9a-f]{64}", str(manifest.data_sha256)):
                raise ValueError("bad checksum")
            return manifest
        except BackupError:
            raise
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            raise BackupError(f"备份清单 manifest.json 无法识别，文件已损坏或不是民声的备份。"
                              f" / The backup's manifest is unreadable ({exc}).") from exc


@dataclass
class RestoreResult:
    manifest: Manifest
    replaced_rows: int  # rows in the database before the restore
    upgrade_needed: bool  # the backup's schema is older than this program's
    warnings: list[str] = field(default_factory=list)


# -- what is configured -----------------------------------------------------------------------------

def current_dialect() -> str:
    name = db.engine.dialect.name
    if name not in DATA_NAMES:
        raise BackupError(f"不支持备份 {name} 数据库（只支持 SQLite 和 PostgreSQL）。 / Unsupported database: {name}.")
    return name


def _sqlite_path() -> Path:
    database = db.engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError("当前 SQLite 数据库不是一个文件，无法备份或恢复。 / The SQLite database is not a plain file.")
    return Path(database)


def _script_directory():
    from alembic.script import ScriptDirectory

    return ScriptDirectory(current_app.extensions["migrate"].directory)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _counts(conn: Connection) -> dict[str, int]:
    """Rows per table of the configured database (SQLite's own sqlite_* tables are left out)."""
    return {name: int(conn.execute(text(f"SELECT count(*) FROM {_quote(name)}")).scalar_one())
            for name in sorted(inspect(conn).get_table_names())}


def _revision_of(conn_execute) -> str:
    try:
        revisions = [row[0] for row in conn_execute("SELECT version_num FROM alembic_version")]
    except (sqlite3.Error, Exception) as exc:  # no alembic_version: never migrated
        raise BackupError("数据库没有 alembic_version 表（从未执行 flask db upgrade），无法确定结构版本。"
                          " / The database has no alembic_version table.") from exc
    if len(revisions) != 1:
        raise BackupError(f"数据库的结构版本不唯一：{revisions}。 / Expected one Alembic revision, found {revisions}.")
    return revisions[0]


def _live_state() -> tuple[dict[str, int], Optional[str]]:
    with db.engine.connect() as conn:
        counts = _counts(conn)
        revision = None
        if "alembic_version" in counts:
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return counts, revision


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


# -- PostgreSQL client tools ------------------------------------------------------------------------

def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"找不到 {name}：请安装与数据库服务器同版本的 PostgreSQL 客户端（Debian: apt-get install "
                          f"postgresql-client）。 / {name} was not found on PATH; install the PostgreSQL client tools.")
    return found


def _tool_version(path: str) -> str:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise BackupError(f"无法运行 {path} --version。 / Could not run {path}: {exc}") from exc
    match = re.search(r"(\d+)(?:\.(\d+))?", out)
    if not match:
        raise BackupError(f"无法识别 {path} 的版本：{out.strip()!r}。 / Unrecognised version output.")
    return match.group(0)


def _major(version: str) -> int:
    return int(version.split(".")[0])


def _server_version(conn: Connection) -> str:
    num = int(conn.execute(text("SHOW server_version_num")).scalar_one())
    return f"{num // 10000}.{num % 10000}" if num >= 100000 else f"{num // 10000}.{num // 100 % 100}"


def _libpq_target() -> tuple[str, dict[str, str]]:
    """The configured database as a libpq URI without the password, which goes in the environment
    so it never shows in the process list."""
    url = db.engine.url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    uri = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, env


def _run_tool(args: list[str], env: dict[str, str], what: str, what_en: str) -> subprocess.CompletedProcess:
    try:
        result = subprocess.run(args, capture_output=True, text=True, env=env, timeout=TOOL_TIMEOUT)
    except (OSError, subprocess.SubprocessError) as exc:
        raise BackupError(f"{what}失败：{exc} / {what_en} failed: {exc}") from exc
    if result.returncode != 0:
        detail = "\n".join(result.stderr.strip().splitlines()[-8:])
        if "version mismatch" in result.stderr or "unsupported version" in result.stderr:
            raise BackupError(f"{what}失败：客户端工具与数据库或备份文件的版本不兼容，请安装与服务器同版本的"
                              f" PostgreSQL 客户端。 / {what_en} failed: client and server/archive versions clash.\n{detail}")
        raise BackupError(f"{what}失败（退出码 {result.returncode}）。 / {what_en} failed.\n{detail}")
    return result


# -- create -----------------------------------------------------------------------------------------

def default_output(dialect: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path(current_app.instance_path) / "backups" / f"minsheng-{dialect}-{stamp}{SUFFIXES[dialect]}"


def _snapshot_sqlite(data_path: Path) -> tuple[str, dict[str, int], dict]:
    source_path = _sqlite_path()
    if not source_path.exists():
        raise BackupError(f"数据库文件不存在：{source_path}。 / No database file at {source_path}.")
    # Read-only URI: a backup must never create or change the live database.
    source = sqlite3.connect(source_path.resolve().as_uri() + "?mode=ro", uri=True, timeout=30)
    target = sqlite3.connect(data_path)
    try:
        with target:
            source.backup(target)  # the online backup API: a consistent copy while the app writes
        counts = _sqlite_file_counts(target)
        revision = _revision_of(lambda sql: target.execute(sql).fetchall())
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite 备份失败：{exc} / SQLite backup failed: {exc}") from exc
    finally:
        target.close()
        source.close()
    return revision, counts, {}


def _sqlite_file_counts(conn: sqlite3.Connection) -> dict[str, int]:
    names = [row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite~_%' ESCAPE '~' ORDER BY name")]
    return {name: int(conn.execute(f"SELECT count(*) FROM {_quote(name)}").fetchone()[0]) for name in names}


def _snapshot_postgresql(data_path: Path) -> tuple[str, dict[str, int], dict]:
    pg_dump = _tool("pg_dump")
    tool_version = _tool_version(pg_dump)
    uri, env = _libpq_target()
    with db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            # One snapshot for the counts, the revision and pg_dump itself: the manifest describes
            # exactly what is in the dump even while the app keeps writing.
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            server_version = _server_version(conn)
            if _major(tool_version) < _major(server_version):
                raise BackupError(f"pg_dump 版本 {tool_version} 低于数据库服务器版本 {server_version}，无法备份；请安装"
                                  f" postgresql-client-{_major(server_version)}。 / pg_dump {tool_version} is older than"
                                  f" the server ({server_version}).")
            counts = _counts(conn)
            revision = _revision_of(lambda sql: conn.execute(text(sql)).fetchall())
            _run_tool([pg_dump, "--format=custom", f"--snapshot={snapshot}", "--no-password",
                       f"--file={data_path}", f"--dbname={uri}"], env, "pg_dump 备份", "pg_dump")
    return revision, counts, {"tool_version": tool_version, "server_version": server_version}


def create_backup(output: Optional[Path] = None) -> tuple[Path, Manifest]:
    """Write a backup of the configured database to `output` (default instance/backups/...)."""
    dialect = current_dialect()
    output = Path(output) if output else default_output(dialect)
    if output.exists():
        raise BackupError(f"文件已存在，不会覆盖：{output}。 / {output} exists; not overwriting.")
    if not output.parent.exists():
        output.parent.mkdir(parents=True, mode=0o700)
    db.session.remove()  # no transaction of ours holds a snapshot or a lock while copying
    workdir = Path(tempfile.mkdtemp(prefix=".minsheng-backup-", dir=output.parent))  # 0700, same filesystem
    try:
        data_path = workdir / DATA_NAMES[dialect]
        snapshot = _snapshot_sqlite if dialect == "sqlite" else _snapshot_postgresql
        revision, counts, versions = snapshot(data_path)
        manifest = Manifest(dialect=dialect, alembic_revision=revision, tables=counts,
                            created_at=_utc_now().isoformat(), data_file=data_path.name,
                            data_sha256=_sha256(data_path), data_bytes=data_path.stat().st_size, **versions)
        manifest_path = workdir / MANIFEST_NAME
        manifest_path.write_text(manifest.to_json(), encoding="utf-8")
        partial = workdir / ("backup" + SUFFIXES[dialect])
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz" if dialect == "sqlite" else "w") as tar:
            for path in (manifest_path, data_path):  # manifest first: verify reads it without the data
                info = tar.gettarinfo(str(path), arcname=path.name)
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                info.mode = 0o600
                with path.open("rb") as handle:
                    tar.addfile(info, handle)
        os.chmod(partial, 0o600)
        os.replace(partial, output)  # only a complete backup ever carries the final name
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return output, manifest


def record_backup_event(path: Path, manifest: Manifest) -> None:
    """The backup is a full export of personal data: it goes in the audit log like any export."""
    from portal.audit.services import record_event

    record_event(None, "backup.create", object_type="database",
                 note=f"数据库备份 {path.name}：{len(manifest.tables)} 张表 {manifest.total_rows} 行，"
                      f"结构版本 {manifest.alembic_revision}")
    db.session.commit()


# -- read and check ---------------------------------------------------------------------------------

@contextmanager
def opened_backup(path: Path) -> Iterator[tuple[Manifest, Path]]:
    """The manifest and the data extracted into a private temporary folder, checked against the
    manifest's checksum; the folder is removed afterwards."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"备份文件不存在：{path}。 / No backup file at {path}.")
    workdir = Path(tempfile.mkdtemp(prefix=".minsheng-restore-"))
    try:
        try:
            with tarfile.open(path, mode="r:*") as tar:
                members = {m.name: m for m in tar.getmembers()}
                if MANIFEST_NAME not in members or not members[MANIFEST_NAME].isfile():
                    raise BackupError("备份文件中没有 manifest.json，不是民声的备份。 / No manifest in the backup.")
                manifest = Manifest.from_json(tar.extractfile(members[MANIFEST_NAME]).read())
                member = members.get(manifest.data_file)
                if member is None or not member.isfile():
                    raise BackupError("备份文件中缺少数据部分，文件不完整。 / The backup has no data part.")
                data_path = workdir / manifest.data_file  # a fixed name: nothing from the archive picks the path
                with tar.extractfile(member) as source, data_path.open("wb") as target:
                    shutil.copyfileobj(source, target, 1 << 20)
        except BackupError:
            raise
        except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
            raise BackupError(f"备份文件已损坏或不完整，无法读取：{exc} / The backup file is damaged or truncated.") from exc
        if data_path.stat().st_size != manifest.data_bytes or _sha256(data_path) != manifest.data_sha256:
            raise BackupError("备份数据的校验值与清单不符，文件已损坏，未做任何恢复。"
                              " / The data does not match the manifest's SHA-256; nothing was restored.")
        yield manifest, data_path
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _differences(expected: dict[str, int], actual: dict[str, int]) -> str:
    return "\n".join(f"  {name}: 清单 {expected.get(name, '无此表')} / 实际 {actual.get(name, '无此表')}"
                     for name in sorted(set(expected) | set(actual)) if expected.get(name) != actual.get(name))


def _check_revision(manifest: Manifest) -> bool:
    """Refuses a backup whose schema this program does not know (made by a newer version);
    returns whether the restored database will need `flask db upgrade`."""
    from alembic.util import CommandError

    script = _script_directory()
    heads = set(script.get_heads())
    try:
        known = script.get_revision(manifest.alembic_revision) is not None
    except (CommandError, Exception):
        known = False
    if not known:
        raise BackupError(f"备份的数据库结构版本 {manifest.alembic_revision} 比本程序新或不认识（本程序为"
                          f" {', '.join(sorted(heads))}）：请先升级程序再恢复。 / The backup's schema revision"
                          f" {manifest.alembic_revision} is newer than this program's; upgrade the program first.")
    return manifest.alembic_revision not in heads


def _check_data(manifest: Manifest, data_path: Path) -> None:
    """The data itself must be readable before the live database is touched."""
    if manifest.dialect == "sqlite":
        try:
            conn = sqlite3.connect(data_path.resolve().as_uri() + "?mode=ro", uri=True)
            try:
                status = conn.execute("PRAGMA integrity_check").fetchone()[0]
                counts = _sqlite_file_counts(conn) if status == "ok" else None
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise BackupError(f"备份中的 SQLite 数据无法读取：{exc} / The SQLite data is unreadable.") from exc
        if status != "ok":
            raise BackupError(f"备份中的 SQLite 数据未通过完整性检查：{status} / Integrity check failed.")
        if counts != manifest.tables:
            raise BackupError("备份中的数据与清单的行数不符，未做任何恢复。 / The data's row counts differ from the"
                              " manifest; nothing was restored:\n" + _differences(manifest.tables, counts))
    else:
        pg_restore = _tool("pg_restore")
        version = _tool_version(pg_restore)
        if manifest.tool_version and _major(version) < _major(manifest.tool_version):
            raise BackupError(f"pg_restore 版本 {version} 低于制作备份的 pg_dump {manifest.tool_version}，无法读取；请安装"
                              f" postgresql-client-{_major(manifest.tool_version)}。 / pg_restore {version} cannot read"
                              f" a dump from pg_dump {manifest.tool_version}.")
        try:
            _run_tool([pg_restore, "--list", str(data_path)], dict(os.environ), "pg_restore --list", "pg_restore --list")
        except BackupError as exc:
            raise BackupError("备份中的 PostgreSQL 数据已损坏或不完整，未做任何恢复。 / The dump in the backup is"
                              " damaged or incomplete; nothing was restored.\n" + exc.message) from exc


def verify_backup(path: Path) -> Manifest:
    """Everything a restore checks before it touches the database."""
    with opened_backup(path) as (manifest, data_path):
        if manifest.dialect != current_dialect():
            raise _dialect_error(manifest)
        _check_revision(manifest)
        _check_data(manifest, data_path)
        return manifest


def _dialect_error(manifest: Manifest) -> BackupError:
    return BackupError(f"备份来自 {manifest.dialect} 数据库，而当前配置的是 {current_dialect()}：不能跨数据库恢复。"
                       f" / The backup is from {manifest.dialect}, the configured database is {current_dialect()}.")


# -- restore ----------------------------------------------------------------------------------------

def _restore_sqlite(data_path: Path) -> None:
    target_path = _sqlite_path()
    target_path.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(data_path.resolve().as_uri() + "?mode=ro", uri=True)
    target = sqlite3.connect(target_path, timeout=60)
    try:
        with target:
            source.backup(target)  # replaces every page of the target in one write transaction
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite 恢复失败（数据库未改变）：{exc}。如应用仍在运行，请先停止。"
                          f" / SQLite restore failed, database unchanged: {exc}") from exc
    finally:
        target.close()
        source.close()


def _restore_postgresql(data_path: Path) -> None:
    pg_restore = _tool("pg_restore")
    uri, env = _libpq_target()
    env["PGOPTIONS"] = (env.get("PGOPTIONS", "") + f" -c lock_timeout={LOCK_TIMEOUT}").strip()
    # One transaction: a dump that breaks half-way leaves the database as it was.
    _run_tool([pg_restore, "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
               "--exit-on-error", "--no-password", f"--dbname={uri}", str(data_path)], env,
              "pg_restore 恢复（已整体回滚，数据库未改变）", "pg_restore (rolled back, database unchanged)")


def restore_backup(path: Path, confirm: Optional[Callable[[str], bool]] = None) -> RestoreResult:
    """Replace the configured database with the backup at `path`. `confirm` is asked before a
    non-empty database is overwritten; None means yes."""
    with opened_backup(path) as (manifest, data_path):
        if manifest.dialect != current_dialect():
            raise _dialect_error(manifest)
        upgrade_needed = _check_revision(manifest)
        _check_data(manifest, data_path)

        db.session.remove()
        if manifest.dialect == "sqlite":
            _sqlite_path().parent.mkdir(parents=True, exist_ok=True)  # restoring to a new place
        counts, revision = _live_state()
        if manifest.dialect == "postgresql":
            extra = sorted(set(counts) - set(manifest.tables))
            if extra:
                # pg_restore --clean drops only what the dump has: these would outlive the restore.
                raise BackupError(f"当前数据库有备份中没有的表：{', '.join(extra)}。请恢复到一个空数据库。"
                                  f" / The database has tables the backup lacks: {', '.join(extra)}.")
        existing = sum(n for name, n in counts.items() if name != "alembic_version")
        if existing and confirm is not None:
            question = (f"当前数据库有 {existing} 行数据（结构版本 {revision or '无'}），将被 {manifest.created_at} 的备份"
                        f"（{manifest.total_rows} 行）整体替换。确定继续吗？ / Replace {existing} rows with the backup?")
            if not confirm(question):
                raise BackupError("已取消，数据库未改变。 / Cancelled; the database is unchanged.")

        db.session.remove()
        db.engine.dispose()  # pooled connections would hold locks the restore waits for
        if manifest.dialect == "sqlite":
            _restore_sqlite(data_path)
        else:
            _restore_postgresql(data_path)
        db.engine.dispose()

    after, revision_after = _live_state()
    if after != manifest.tables:
        raise BackupError("恢复后的行数与备份清单不符，恢复结果不可信！ / Row counts after the restore differ from the"
                          " manifest:\n" + _differences(manifest.tables, after))
    if revision_after != manifest.alembic_revision:
        raise BackupError(f"恢复后的结构版本 {revision_after} 与备份 {manifest.alembic_revision} 不符。"
                          f" / Schema revision after restore differs from the backup.")
    return RestoreResult(manifest=manifest, replaced_rows=existing, upgrade_needed=upgrade_needed)
