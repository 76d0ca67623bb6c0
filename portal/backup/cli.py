"""`flask backup create|restore|verify`: whole-database backups for SQLite and PostgreSQL."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from portal.backup import services
from portal.backup.services import BackupError

backup_cli = AppGroup("backup", help="备份与恢复数据库 (back up and restore the database).")


def _summary(manifest: services.Manifest) -> str:
    return (f"{manifest.dialect}，结构版本 {manifest.alembic_revision}，{len(manifest.tables)} 张表 "
            f"{manifest.total_rows} 行，制作于 {manifest.created_at}")


@backup_cli.command("create")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="backup file to write (default: instance/backups/minsheng-<dialect>-<time>.tar[.gz])")
def create_command(output):
    """Back up the configured database (consistent while the app runs)."""
    click.echo("正在备份数据库…")
    try:
        path, manifest = services.create_backup(output)
        services.record_backup_event(path, manifest)
    except BackupError as exc:
        raise click.ClickException(exc.message)
    click.echo(f"已写入备份 {path}（{path.stat().st_size} 字节，仅所有者可读 0600）")
    click.echo(_summary(manifest))
    click.echo("备份含个人信息（来电人电话、业主身份证号），请妥善保管。")


@backup_cli.command("verify")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def verify_command(path):
    """Check a backup without restoring it."""
    try:
        manifest = services.verify_backup(path)
    except BackupError as exc:
        raise click.ClickException(exc.message)
    click.echo(f"备份完好：{_summary(manifest)}")


@backup_cli.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="do not ask before replacing a database that has data")
def restore_command(path, yes):
    """Replace the configured database with a backup. Stop the app (web and job workers) first."""
    def confirm(question: str) -> bool:
        try:
            return click.confirm(question, default=False)
        except click.Abort:  # no terminal to answer (cron, CI): the safe answer is no
            click.echo("")
            return False

    click.echo(f"正在检查备份 {path}…")
    try:
        result = services.restore_backup(path, confirm=None if yes else confirm)
    except BackupError as exc:
        raise click.ClickException(exc.message)
    click.echo(f"已恢复：{_summary(result.manifest)}；各表行数与清单一致。")
    if result.upgrade_needed:
        click.echo("备份的结构版本比本程序旧：请运行 flask db upgrade。 / Run `flask db upgrade` next.")
