"""review queue: tag corrections, review flags, theme model versions; survey answers can be confirmed

Revision ID: 0007_review
Revises: 0006_demand_rollup
Create Date: 2026-12-01 20:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_review'
down_revision = '0006_demand_rollup'
branch_labels = None
depends_on = None

SOURCE = sa.Enum('hotline', 'survey', 'minutes', 'suggestion', name='signalsource', native_enum=False, length=16)


def upgrade():
    op.create_table('tag_corrections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', SOURCE, nullable=False),
    sa.Column('record_id', sa.String(length=64), nullable=False),
    sa.Column('street_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('themes', sa.JSON(), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('previous_themes', sa.JSON(), nullable=False),
    sa.Column('previous_urgent', sa.Boolean(), nullable=False),
    sa.Column('changed', sa.Boolean(), nullable=False),
    sa.Column('model_version', sa.String(length=64), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_tag_corrections_actor_id_users')),
    sa.ForeignKeyConstraint(['street_id'], ['streets.id'], name=op.f('fk_tag_corrections_street_id_streets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tag_corrections'))
    )
    op.create_index('ix_tag_corrections_record', 'tag_corrections', ['source', 'record_id'], unique=False)
    op.create_index(op.f('ix_tag_corrections_street_id'), 'tag_corrections', ['street_id'], unique=False)
    op.create_index(op.f('ix_tag_corrections_created_at'), 'tag_corrections', ['created_at'], unique=False)

    op.create_table('review_flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', SOURCE, nullable=False),
    sa.Column('record_id', sa.String(length=64), nullable=False),
    sa.Column('street_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('flagged_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['flagged_by_id'], ['users.id'], name=op.f('fk_review_flags_flagged_by_id_users')),
    sa.ForeignKeyConstraint(['street_id'], ['streets.id'], name=op.f('fk_review_flags_street_id_streets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_flags'))
    )
    op.create_index('ix_review_flags_record', 'review_flags', ['source', 'record_id'], unique=False)
    op.create_index(op.f('ix_review_flags_street_id'), 'review_flags', ['street_id'], unique=False)

    op.create_table('theme_models',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('status', sa.Enum('candidate', 'active', 'retired', 'discarded', name='modelstatus', native_enum=False, length=16), nullable=False),
    sa.Column('base_version', sa.String(length=64), nullable=True),
    sa.Column('n_corrections', sa.Integer(), nullable=False),
    sa.Column('n_held_back', sa.Integer(), nullable=False),
    sa.Column('evaluation', sa.JSON(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_theme_models_created_by_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_theme_models_decided_by_id_users')),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_theme_models_job_id_jobs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_theme_models')),
    sa.UniqueConstraint('version', name=op.f('uq_theme_models_version'))
    )
    op.create_index(op.f('ix_theme_models_status'), 'theme_models', ['status'], unique=False)

    with op.batch_alter_table('survey_answers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tags_confirmed', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('survey_answers', schema=None) as batch_op:
        batch_op.drop_column('tags_confirmed')
    op.drop_index(op.f('ix_theme_models_status'), table_name='theme_models')
    op.drop_table('theme_models')
    op.drop_index(op.f('ix_review_flags_street_id'), table_name='review_flags')
    op.drop_index('ix_review_flags_record', table_name='review_flags')
    op.drop_table('review_flags')
    op.drop_index(op.f('ix_tag_corrections_created_at'), table_name='tag_corrections')
    op.drop_index(op.f('ix_tag_corrections_street_id'), table_name='tag_corrections')
    op.drop_index('ix_tag_corrections_record', table_name='tag_corrections')
    op.drop_table('tag_corrections')
