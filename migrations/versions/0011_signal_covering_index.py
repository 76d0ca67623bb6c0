"""demand signals: the (estate, theme, time, id) index in the order intensity walks read, covering on PostgreSQL

Revision ID: 0011_signal_covering_index
Revises: 0010_job_heartbeat
Create Date: 2026-12-02 02:00:00

Ranking every candidate project reads a year of signals for some 400 (estate, theme) pairs, and the demand
gaps read every pair. Signals are stored in arrival order, so those rows sit on nearly every heap page: with
reporter, urgent and weight included the read is index-only on PostgreSQL (1.7 s → 0.2 s for the ranking on
1.4 M signals), and with id as the last key the rows come in the walk's order without a sort.
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
    op.drop_index(INDEX, table_name='demand_signals')
    op.create_index(INDEX, 'demand_signals', COLUMNS + ['id'], postgresql_include=['reporter_key', 'urgent', 'weight'])


def downgrade():
    op.drop_index(INDEX, table_name='demand_signals')
    op.create_index(INDEX, 'demand_signals', COLUMNS)
