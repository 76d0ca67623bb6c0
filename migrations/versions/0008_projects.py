"""project library: projects with their estates and themes, versioned score weights, stored scores

Revision ID: 0008_projects
Revises: 0007_review
Create Date: 2026-12-01 21:51:50.766868

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_projects'
down_revision = '0007_review'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('project_weight_sets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('weights', sa.JSON(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_project_weight_sets_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_weight_sets')),
    sa.UniqueConstraint('version', name=op.f('uq_project_weight_sets_version'))
    )
    op.create_table('projects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('street_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('category', sa.Enum('basic', 'improve', 'enhance', name='projectcategory', native_enum=False, length=16), nullable=False),
    sa.Column('status', sa.Enum('proposed', 'approved', 'in_progress', 'completed', name='projectstatus', native_enum=False, length=16), nullable=False),
    sa.Column('cost_wan', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('households_covered', sa.Integer(), nullable=False),
    sa.Column('consent_survey_id', sa.Integer(), nullable=True),
    sa.Column('started_on', sa.Date(), nullable=True),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['consent_survey_id'], ['surveys.id'], name=op.f('fk_projects_consent_survey_id_surveys')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_projects_created_by_id_users')),
    sa.ForeignKeyConstraint(['street_id'], ['streets.id'], name=op.f('fk_projects_street_id_streets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projects'))
    )
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_projects_consent_survey_id'), ['consent_survey_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_projects_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_projects_street_id'), ['street_id'], unique=False)

    op.create_table('project_estates',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('estate_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['estate_id'], ['estates.id'], name=op.f('fk_project_estates_estate_id_estates')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_estates_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'estate_id', name=op.f('pk_project_estates'))
    )
    with op.batch_alter_table('project_estates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_estates_estate_id'), ['estate_id'], unique=False)

    op.create_table('project_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('weight_set_id', sa.Integer(), nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.Column('factors', sa.JSON(), nullable=False),
    sa.Column('eligible', sa.Boolean(), nullable=False),
    sa.Column('ineligible_reason', sa.String(length=500), nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_scores_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['weight_set_id'], ['project_weight_sets.id'], name=op.f('fk_project_scores_weight_set_id_project_weight_sets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_scores')),
    sa.UniqueConstraint('project_id', 'weight_set_id', name=op.f('uq_project_scores_project_id_weight_set_id'))
    )
    with op.batch_alter_table('project_scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_scores_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_scores_weight_set_id'), ['weight_set_id'], unique=False)

    op.create_table('project_themes',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('theme', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_themes_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'theme', name=op.f('pk_project_themes'))
    )
    with op.batch_alter_table('project_themes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_themes_theme'), ['theme'], unique=False)



def downgrade():
    with op.batch_alter_table('project_themes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_themes_theme'))

    op.drop_table('project_themes')
    with op.batch_alter_table('project_scores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_scores_weight_set_id'))
        batch_op.drop_index(batch_op.f('ix_project_scores_project_id'))

    op.drop_table('project_scores')
    with op.batch_alter_table('project_estates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_estates_estate_id'))

    op.drop_table('project_estates')
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_projects_street_id'))
        batch_op.drop_index(batch_op.f('ix_projects_status'))
        batch_op.drop_index(batch_op.f('ix_projects_consent_survey_id'))

    op.drop_table('projects')
    op.drop_table('project_weight_sets')
