import click
from flask.cli import AppGroup
from sqlalchemy import select
from tqdm import tqdm

from portal.accounts.models import Role, User
from portal.extensions import db
from portal.tickets.importer import STANDARD_COLUMNS, ImportFailed, MappingNeeded, import_tickets

tickets_cli = AppGroup("tickets", help="12345 工单 (hotline tickets).")


@tickets_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--map", "mappings", multiple=True, metavar="源列名=标准列名",
              help=f"map a header to a standard column ({'、'.join(STANDARD_COLUMNS)})")
@click.option("--skip-invalid", is_flag=True, help="import the valid rows and list the skipped ones")
@click.option("--as-user", default=None, help="username recorded in the event log (default: the first district_admin)")
def import_command(path, mappings, skip_invalid, as_user):
    """Import a ticket export (.xlsx or .csv)."""
    mapping = {}
    for item in mappings:
        source, sep, standard = item.partition("=")
        if not sep or standard.strip() not in STANDARD_COLUMNS:
            raise click.BadParameter(f"「{item}」应为 源列名=标准列名，标准列名为：{'、'.join(STANDARD_COLUMNS)}", param_hint="--map")
        mapping[source.strip()] = standard.strip()
    if as_user:
        actor = db.session.scalar(select(User).where(User.username == as_user))
        if actor is None:
            raise click.ClickException(f"用户「{as_user}」不存在。")
    else:
        actor = db.session.scalar(select(User).where(User.role == Role.district_admin).order_by(User.id))
    with open(path, "rb") as handle:
        data = handle.read()
    bar = tqdm(total=0, unit="件", desc="导入工单", disable=None)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        report = import_tickets(actor, path, data, mapping=mapping, skip_invalid=skip_invalid, progress=progress)
    except MappingNeeded as exc:
        bar.close()
        raise click.ClickException(exc.message + " 用 --map 源列名=标准列名 指定。")
    except ImportFailed as exc:
        bar.close()
        for error in exc.report.errors:
            click.echo(error, err=True)
        raise click.ClickException(exc.message)
    bar.close()
    for error in report.errors:
        click.echo(f"跳过 {error}", err=True)
    click.echo(report.summary)
