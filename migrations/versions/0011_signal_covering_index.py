"""demand signals: the (estate, theme, time) index covers what project scores read, on PostgreSQL

Revision ID: 0011_signal_covering_index
Revises: 0010_job_heartbeat
Create Date: 2026-12-02 02:00:00

Ranking every candidate project reads a year of signals for some 400 (estate, theme) pairs. Signals are
stored in arrival order, so those rows sit on nearly every heap page: with reporter, urgent, weight and id
in the index the read is index-only (1.7 s → 0.2 s on 1.4 M signals). SQLite keeps the plain index.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0011_signal_covering_index'
down_revision = '0010_job_heartbeat'
branch_labels = None
depends_on = None

INDEX = 'ix_demand_signals_estate_theme_time'
COLUMNS = ['estate_id', 'theme', 'occurred_at']


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.drop_index(INDEX, table_name='demand_signals')
    op.create_index(INDEX, 'demand_signals', COLUMNS, postgresql_include=['reporter_key', 'urgent', 'weight', 'id'])


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.drop_index(INDEX, table_name='demand_signals')
    op.create_index(INDEX, 'demand_signals', COLUMNS)
