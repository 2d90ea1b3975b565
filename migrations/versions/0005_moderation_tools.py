"""moderation tools: label corrections

`label_corrections` keeps moderators' corrections of the model's topic and sentiment apart from
the labels the model gave (which stay on the comment), with who, when, the old and the new label
and the model version: training data for a later model.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 23:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'label_corrections',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('comment_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('field', sa.String(length=20), nullable=False),
        sa.Column('old_label', sa.String(length=20), nullable=True),
        sa.Column('new_label', sa.String(length=20), nullable=False),
        sa.Column('model_version', sa.String(length=80), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['comment_id'], ['comments.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_label_corrections_comment', 'label_corrections', ['comment_id', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_label_corrections_comment', table_name='label_corrections')
    op.drop_table('label_corrections')
