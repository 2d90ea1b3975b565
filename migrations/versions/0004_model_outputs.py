"""model outputs: sentiment score, uncertain topics, explaining terms

`sentiment_score` is the sentiment model's -1..1 score (VADER's raw scores stay in their columns),
`topic_uncertain` marks comments whose top topic is below the calibrated confidence bar, and
`topic_terms` keeps the words that pushed the model toward its topic, so the web processes can
show them without loading the model.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 21:35:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sentiment_score', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('topic_uncertain', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('topic_terms', sa.JSON(), nullable=True))


def downgrade():
    op.execute('ALTER TABLE comments DROP COLUMN topic_terms')
    op.execute('ALTER TABLE comments DROP COLUMN topic_uncertain')
    op.execute('ALTER TABLE comments DROP COLUMN sentiment_score')
