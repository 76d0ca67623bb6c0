"""demand monthly and street-daily rollups: the daily counts summed per month, estate and theme, and per day,
street and theme, with source and urgent as columns

Revision ID: 0009_demand_monthly
Revises: 0008_projects
Create Date: 2026-12-01 22:30:00

Filled from demand_daily_counts. Long dashboard ranges read whole months from the monthly table and only
the part-months at their edges from the daily rollup; weekly trends read the street-daily table.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_demand_monthly'
down_revision = '0008_projects'
branch_labels = None
depends_on = None

SOURCES = ('hotline', 'survey', 'minutes', 'suggestion')
COUNTS = ['n', 'n_urgent'] + [f'n_{s}' for s in SOURCES] + [f'n_urgent_{s}' for s in SOURCES]


def _month_sql(dialect: str) -> str:
    if dialect == 'postgresql':
        return "CAST(date_trunc('month', local_day) AS DATE)"
    return "date(local_day, 'start of month')"


def upgrade():
    op.create_table('demand_monthly_counts',
    sa.Column('estate_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('theme', sa.String(length=32), nullable=False),
    sa.Column('street_id', sa.Integer(), nullable=False),
    *[sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS],
    sa.ForeignKeyConstraint(['estate_id'], ['estates.id'], name=op.f('fk_demand_monthly_counts_estate_id_estates')),
    sa.ForeignKeyConstraint(['street_id'], ['streets.id'], name=op.f('fk_demand_monthly_counts_street_id_streets')),
    sa.PrimaryKeyConstraint('estate_id', 'month', 'theme', 'street_id', name=op.f('pk_demand_monthly_counts'))
    )
    op.create_table('demand_street_daily_counts',
    sa.Column('street_id', sa.Integer(), nullable=False),
    sa.Column('local_day', sa.Date(), nullable=False),
    sa.Column('theme', sa.String(length=32), nullable=False),
    *[sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS],
    sa.ForeignKeyConstraint(['street_id'], ['streets.id'], name=op.f('fk_demand_street_daily_counts_street_id_streets')),
    sa.PrimaryKeyConstraint('street_id', 'local_day', 'theme', name=op.f('pk_demand_street_daily_counts'))
    )
    dialect = op.get_bind().dialect.name
    true = 'true' if dialect == 'postgresql' else '1'
    sums = ["SUM(n)", f"SUM(CASE WHEN urgent = {true} THEN n ELSE 0 END)"]
    sums += [f"SUM(CASE WHEN source = '{s}' THEN n ELSE 0 END)" for s in SOURCES]
    sums += [f"SUM(CASE WHEN urgent = {true} AND source = '{s}' THEN n ELSE 0 END)" for s in SOURCES]
    op.execute(
        f"INSERT INTO demand_monthly_counts (estate_id, month, theme, street_id, {', '.join(COUNTS)}) "
        f"SELECT estate_id, {_month_sql(dialect)} AS month, theme, street_id, {', '.join(sums)} "
        "FROM demand_daily_counts GROUP BY estate_id, month, theme, street_id"
    )
    op.execute(
        f"INSERT INTO demand_street_daily_counts (street_id, local_day, theme, {', '.join(COUNTS)}) "
        f"SELECT street_id, local_day, theme, {', '.join(sums)} "
        "FROM demand_daily_counts GROUP BY street_id, local_day, theme"
    )
    with op.batch_alter_table('demand_street_daily_counts', schema=None) as batch_op:
        batch_op.create_index('ix_demand_street_daily_counts_day', ['local_day'], unique=False)
    with op.batch_alter_table('demand_monthly_counts', schema=None) as batch_op:
        batch_op.create_index('ix_demand_monthly_counts_month', ['month', 'theme'], unique=False)
        batch_op.create_index('ix_demand_monthly_counts_street_month', ['street_id', 'month'], unique=False)


def downgrade():
    with op.batch_alter_table('demand_street_daily_counts', schema=None) as batch_op:
        batch_op.drop_index('ix_demand_street_daily_counts_day')
    op.drop_table('demand_street_daily_counts')
    with op.batch_alter_table('demand_monthly_counts', schema=None) as batch_op:
        batch_op.drop_index('ix_demand_monthly_counts_street_month')
        batch_op.drop_index('ix_demand_monthly_counts_month')
    op.drop_table('demand_monthly_counts')
