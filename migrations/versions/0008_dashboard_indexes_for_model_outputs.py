"""dashboard indexes cover the sentiment model's score and the uncertain flag

The dashboard now groups by `topic_uncertain` and averages `sentiment_score` (the sentiment model's
score) instead of VADER's compound; its two covering indexes follow, so the figures stay index walks.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 23:15:00

"""
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_status_topic_sentiment')
        batch_op.drop_index('ix_comments_status_created_topic')
        batch_op.create_index('ix_comments_status_topic_sentiment',
                              ['status', 'topic', 'topic_uncertain', 'sentiment', 'sentiment_score'], unique=False)
        batch_op.create_index('ix_comments_status_created_topic',
                              ['status', 'created_at', 'topic', 'sentiment_score'], unique=False)


def downgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_status_created_topic')
        batch_op.drop_index('ix_comments_status_topic_sentiment')
        batch_op.create_index('ix_comments_status_created_topic',
                              ['status', 'created_at', 'topic', 'sentiment_compound'], unique=False)
        batch_op.create_index('ix_comments_status_topic_sentiment',
                              ['status', 'topic', 'sentiment', 'sentiment_compound'], unique=False)
