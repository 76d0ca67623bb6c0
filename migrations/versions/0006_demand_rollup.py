"""demand rollup: local day on demand signals, daily counts for the dashboard

Revision ID: 0006_demand_rollup
Revises: 0005_minutes
Create Date: 2026-11-23 02:00:00

Adds demand_signals.local_day (the Asia/Shanghai date of occurred_at, UTC+8 without daylight saving)
and the demand_daily_counts rollup, both filled from the rows already there.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_demand_rollup'
down_revision = '0005_minutes'
branch_labels = None
depends_on = None


def _local_day_sql(dialect: str) -> str:
    if dialect == 'postgresql':
        return "CAST(occurred_at + INTERVAL '8 hours' AS DATE)"
    return "date(occurred_at, '+8 hours')"


def upgrade():
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table('demand_signals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('local_day', sa.Date(), nullable=True))
    op.execute(f"UPDATE demand_signals SET local_day = {_local_day_sql(dialect)}")
    with op.batch_alter_table('demand_signals', schema=None) as batch_op:
        batch_op.alter_column('local_day', existing_type=sa.Date(), nullable=False)
        batch_op.create_index('ix_demand_signals_estate_day', ['estate_id', 'local_day'], unique=False)
        batch_op.create_index('ix_demand_signals_theme_urgent_time', ['theme', 'urgent', 'occurred_at'], unique=False)

    op.create_table('demand_daily_counts',
    sa.Column('estate_id', sa.Integer(), nullable=False),
    sa.Column('local_day', sa.Date(), nullable=False),
    sa.Column('theme', sa.String(length=32), nullable=False),
    sa.Column('source', sa.Enum('hotline', 'survey', 'minutes', 'suggestion', name='signalsource', native_enum=False, length=16), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('street_id', sa.Integer(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['estate_id'], ['estates.id'], name=op.f('fk_demand_daily_counts_estate_id_estates')),
    sa.ForeignKeyConstraint(['street_id'], ['streets.id'], name=op.f('fk_demand_daily_counts_street_id_streets')),
    sa.PrimaryKeyConstraint('estate_id', 'local_day', 'theme', 'source', 'urgent', 'street_id', name=op.f('pk_demand_daily_counts'))
    )
    op.execute(
        "INSERT INTO demand_daily_counts (estate_id, local_day, theme, source, urgent, street_id, n) "
        "SELECT estate_id, local_day, theme, source, urgent, street_id, COUNT(*) FROM demand_signals "
        "GROUP BY estate_id, local_day, theme, source, urgent, street_id"
    )
    with op.batch_alter_table('demand_daily_counts', schema=None) as batch_op:
        batch_op.create_index('ix_demand_daily_counts_day', ['local_day', 'theme'], unique=False)
        batch_op.create_index('ix_demand_daily_counts_street_day', ['street_id', 'local_day'], unique=False)
        batch_op.create_index('ix_demand_daily_counts_theme_day', ['theme', 'local_day'], unique=False)


def downgrade():
    with op.batch_alter_table('demand_daily_counts', schema=None) as batch_op:
        batch_op.drop_index('ix_demand_daily_counts_theme_day')
        batch_op.drop_index('ix_demand_daily_counts_street_day')
        batch_op.drop_index('ix_demand_daily_counts_day')
    op.drop_table('demand_daily_counts')
    with op.batch_alter_table('demand_signals', schema=None) as batch_op:
        batch_op.drop_index('ix_demand_signals_theme_urgent_time')
        batch_op.drop_index('ix_demand_signals_estate_day')
        batch_op.drop_column('local_day')
