import click
from flask.cli import AppGroup
from sqlalchemy import select

from portal.accounts import services
from portal.accounts.models import Role
from portal.areas.models import Street
from portal.core.errors import ServiceError
from portal.extensions import db

user_cli = AppGroup("user", help="管理用户账号 (manage user accounts).")


@user_cli.command("create")
@click.option("--username", prompt="用户名", help="login name")
@click.option("--role", type=click.Choice([r.value for r in Role]), prompt="角色", help="operator, street_staff or district_admin")
@click.option("--street", default=None, help="street name (required for street_staff)")
@click.option("--name", "display_name", default="", help="display name")
@click.password_option("--password", prompt="密码", confirmation_prompt=True)
def create_user_command(username, role, street, display_name, password):
    """Create a user."""
    street_id = None
    if street:
        found = db.session.scalar(select(Street).where(Street.name == street))
        if found is None:
            raise click.ClickException(f"街道「{street}」不存在。")
        street_id = found.id
    try:
        user = services.create_user(None, username=username, password=password, role=Role(role),
                                    display_name=display_name, street_id=street_id)
    except ServiceError as exc:
        raise click.ClickException(exc.message)
    click.echo(f"created user {user.username} ({user.role.value})")
