"""surveys: questions, one current response per household, answers and replaced versions

Revision ID: 0004_surveys
Revises: 0003_api_keys
Create Date: 2026-11-22 03:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_surveys'
down_revision = '0003_api_keys'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('surveys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=16), nullable=False),
    sa.Column('street_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=128), nullable=False),
    sa.Column('intro', sa.Text(), nullable=False),
    sa.Column('matter_type', sa.Enum('major', 'ordinary', name='mattertype', native_enum=False, length=16), nullable=False),
    sa.Column('tally_scope', sa.Enum('estate', 'building', 'unit', name='tallyscope', native_enum=False, length=16), nullable=False),
    sa.Column('scope_targets', sa.JSON(), nullable=False),
    sa.Column('opens_on', sa.Date(), nullable=False),
    sa.Column('closes_on', sa.Date(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_surveys_created_by_id_users')),
    sa.ForeignKeyConstraint(['street_id'], ['streets.id'], name=op.f('fk_surveys_street_id_streets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_surveys')),
    sa.UniqueConstraint('slug', name=op.f('uq_surveys_slug'))
    )
    op.create_index(op.f('ix_surveys_street_id'), 'surveys', ['street_id'], unique=False)

    op.create_table('survey_estates',
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('estate_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['estate_id'], ['estates.id'], name=op.f('fk_survey_estates_estate_id_estates')),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_estates_survey_id_surveys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('survey_id', 'estate_id', name=op.f('pk_survey_estates'))
    )
    op.create_index(op.f('ix_survey_estates_estate_id'), 'survey_estates', ['estate_id'], unique=False)

    op.create_table('survey_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('single', 'multiple', 'scale', 'text', 'consent', name='questionkind', native_enum=False, length=16), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('max_choices', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_questions_survey_id_surveys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_questions'))
    )
    op.create_index(op.f('ix_survey_questions_survey_id'), 'survey_questions', ['survey_id'], unique=False)

    op.create_table('survey_responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('estate_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Enum('online', 'paper', name='channel', native_enum=False, length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=False),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['entered_by_id'], ['users.id'], name=op.f('fk_survey_responses_entered_by_id_users')),
    sa.ForeignKeyConstraint(['estate_id'], ['estates.id'], name=op.f('fk_survey_responses_estate_id_estates')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_survey_responses_household_id_households')),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_responses_survey_id_surveys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_responses')),
    sa.UniqueConstraint('survey_id', 'household_id', name=op.f('uq_survey_responses_survey_id_household_id'))
    )
    op.create_index(op.f('ix_survey_responses_estate_id'), 'survey_responses', ['estate_id'], unique=False)
    op.create_index(op.f('ix_survey_responses_household_id'), 'survey_responses', ['household_id'], unique=False)

    op.create_table('survey_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('choices', sa.JSON(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('themes', sa.JSON(), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('needs_review', sa.Boolean(), nullable=False),
    sa.Column('model_version', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['question_id'], ['survey_questions.id'], name=op.f('fk_survey_answers_question_id_survey_questions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['response_id'], ['survey_responses.id'], name=op.f('fk_survey_answers_response_id_survey_responses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_answers_survey_id_surveys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_answers')),
    sa.UniqueConstraint('response_id', 'question_id', name=op.f('uq_survey_answers_response_id_question_id'))
    )
    op.create_index('ix_survey_answers_survey_question', 'survey_answers', ['survey_id', 'question_id'], unique=False)

    op.create_table('survey_response_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Enum('online', 'paper', name='channel', native_enum=False, length=16), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=False),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.Column('replaced_at', sa.DateTime(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['entered_by_id'], ['users.id'], name=op.f('fk_survey_response_versions_entered_by_id_users')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_survey_response_versions_household_id_households')),
    sa.ForeignKeyConstraint(['response_id'], ['survey_responses.id'], name=op.f('fk_survey_response_versions_response_id_survey_responses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_response_versions_survey_id_surveys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_response_versions')),
    sa.UniqueConstraint('response_id', 'version', name=op.f('uq_survey_response_versions_response_id_version'))
    )
    op.create_index(op.f('ix_survey_response_versions_household_id'), 'survey_response_versions', ['household_id'], unique=False)
    op.create_index(op.f('ix_survey_response_versions_survey_id'), 'survey_response_versions', ['survey_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_survey_response_versions_survey_id'), table_name='survey_response_versions')
    op.drop_index(op.f('ix_survey_response_versions_household_id'), table_name='survey_response_versions')
    op.drop_table('survey_response_versions')
    op.drop_index('ix_survey_answers_survey_question', table_name='survey_answers')
    op.drop_table('survey_answers')
    op.drop_index(op.f('ix_survey_responses_household_id'), table_name='survey_responses')
    op.drop_index(op.f('ix_survey_responses_estate_id'), table_name='survey_responses')
    op.drop_table('survey_responses')
    op.drop_index(op.f('ix_survey_questions_survey_id'), table_name='survey_questions')
    op.drop_table('survey_questions')
    op.drop_index(op.f('ix_survey_estates_estate_id'), table_name='survey_estates')
    op.drop_table('survey_estates')
    op.drop_index(op.f('ix_surveys_street_id'), table_name='surveys')
    op.drop_table('surveys')
