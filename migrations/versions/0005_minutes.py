"""meetings, minutes points, follow-up actions and online suggestions

Revision ID: 0005_minutes
Revises: 0004_surveys
Create Date: 2026-11-22 03:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_minutes'
down_revision = '0004_surveys'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('meetings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('street_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('forum', 'council', 'needs', 'dialogue', name='meetingkind', native_enum=False, length=16), nullable=False),
    sa.Column('title', sa.String(length=128), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('attendee_count', sa.Integer(), nullable=False),
    sa.Column('organiser', sa.String(length=64), nullable=False),
    sa.Column('location', sa.String(length=128), nullable=False),
    sa.Column('minutes_text', sa.Text(), nullable=False),
    sa.Column('source_filename', sa.String(length=256), nullable=True),
    sa.Column('points_saved_at', sa.DateTime(), nullable=True),
    sa.Column('outcomes', sa.Text(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('attendee_count >= 0', name=op.f('ck_meetings_attendee_count_not_negative')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_meetings_created_by_id_users')),
    sa.ForeignKeyConstraint(['street_id'], ['streets.id'], name=op.f('fk_meetings_street_id_streets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meetings'))
    )
    op.create_index(op.f('ix_meetings_held_on'), 'meetings', ['held_on'], unique=False)
    op.create_index(op.f('ix_meetings_street_id'), 'meetings', ['street_id'], unique=False)

    op.create_table('meeting_estates',
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('estate_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['estate_id'], ['estates.id'], name=op.f('fk_meeting_estates_estate_id_estates')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_meeting_estates_meeting_id_meetings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('meeting_id', 'estate_id', name=op.f('pk_meeting_estates'))
    )
    op.create_index(op.f('ix_meeting_estates_estate_id'), 'meeting_estates', ['estate_id'], unique=False)

    op.create_table('minutes_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('speaker', sa.String(length=64), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('themes', sa.JSON(), nullable=False),
    sa.Column('theme_scores', sa.JSON(), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('needs_review', sa.Boolean(), nullable=False),
    sa.Column('tags_confirmed', sa.Boolean(), nullable=False),
    sa.Column('model_version', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_minutes_points_meeting_id_meetings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_minutes_points')),
    sa.UniqueConstraint('meeting_id', 'position', name=op.f('uq_minutes_points_meeting_id_position'))
    )

    op.create_table('meeting_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_meeting_actions_meeting_id_meetings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_actions'))
    )
    op.create_index(op.f('ix_meeting_actions_meeting_id'), 'meeting_actions', ['meeting_id'], unique=False)

    op.create_table('suggestions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('estate_id', sa.Integer(), nullable=False),
    sa.Column('street_id', sa.Integer(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('contact_name', sa.String(length=64), nullable=True),
    sa.Column('contact_phone', sa.String(length=32), nullable=True),
    sa.Column('themes', sa.JSON(), nullable=False),
    sa.Column('theme_scores', sa.JSON(), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('needs_review', sa.Boolean(), nullable=False),
    sa.Column('tags_confirmed', sa.Boolean(), nullable=False),
    sa.Column('model_version', sa.String(length=64), nullable=True),
    sa.Column('status', sa.Enum('open', 'replied', name='suggestionstatus', native_enum=False, length=16), nullable=False),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.Column('replied_at', sa.DateTime(), nullable=True),
    sa.Column('replied_by_id', sa.Integer(), nullable=True),
    sa.Column('access_token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['estate_id'], ['estates.id'], name=op.f('fk_suggestions_estate_id_estates')),
    sa.ForeignKeyConstraint(['replied_by_id'], ['users.id'], name=op.f('fk_suggestions_replied_by_id_users')),
    sa.ForeignKeyConstraint(['street_id'], ['streets.id'], name=op.f('fk_suggestions_street_id_streets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestions')),
    sa.UniqueConstraint('access_token_hash', name=op.f('uq_suggestions_access_token_hash'))
    )
    op.create_index(op.f('ix_suggestions_created_at'), 'suggestions', ['created_at'], unique=False)
    op.create_index(op.f('ix_suggestions_estate_id'), 'suggestions', ['estate_id'], unique=False)
    op.create_index(op.f('ix_suggestions_status'), 'suggestions', ['status'], unique=False)
    op.create_index(op.f('ix_suggestions_street_id'), 'suggestions', ['street_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_suggestions_street_id'), table_name='suggestions')
    op.drop_index(op.f('ix_suggestions_status'), table_name='suggestions')
    op.drop_index(op.f('ix_suggestions_estate_id'), table_name='suggestions')
    op.drop_index(op.f('ix_suggestions_created_at'), table_name='suggestions')
    op.drop_table('suggestions')
    op.drop_index(op.f('ix_meeting_actions_meeting_id'), table_name='meeting_actions')
    op.drop_table('meeting_actions')
    op.drop_table('minutes_points')
    op.drop_index(op.f('ix_meeting_estates_estate_id'), table_name='meeting_estates')
    op.drop_table('meeting_estates')
    op.drop_index(op.f('ix_meetings_street_id'), table_name='meetings')
    op.drop_index(op.f('ix_meetings_held_on'), table_name='meetings')
    op.drop_table('meetings')
