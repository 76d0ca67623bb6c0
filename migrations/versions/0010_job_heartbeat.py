"""jobs: the worker process that runs a job and its last heartbeat

Revision ID: 0010_job_heartbeat
Revises: 0009_demand_monthly
Create Date: 2026-12-02 10:00:00

A job whose worker was killed is marked failed instead of staying "running" forever.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_job_heartbeat'
down_revision = '0009_demand_monthly'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('jobs') as batch_op:
        batch_op.add_column(sa.Column('worker', sa.String(length=160), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('jobs') as batch_op:
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('worker')
