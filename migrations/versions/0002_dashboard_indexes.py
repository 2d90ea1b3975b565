"""dashboard indexes and decision minutes

Covering indexes for the editors' dashboard, and `decision_minutes` (minutes from submission to
decision) stored when a comment is decided, so the median time to decision is an index walk
instead of a sort. Existing decided comments are backfilled.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 00:48:18.099289

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decision_minutes', sa.Double(), nullable=True))
        batch_op.drop_index(batch_op.f('ix_comments_status_created'))
        batch_op.drop_index(batch_op.f('ix_comments_status_topic_sentiment'))
        batch_op.create_index('ix_comments_status_topic_sentiment', ['status', 'topic', 'sentiment', 'sentiment_compound'], unique=False)
        batch_op.create_index('ix_comments_status_created_topic', ['status', 'created_at', 'topic', 'sentiment_compound'], unique=False)
        batch_op.create_index('ix_comments_status_topic_compound', ['status', 'topic', 'sentiment_compound'], unique=False)
        batch_op.create_index('ix_comments_status_topic_confidence', ['status', 'topic', 'topic_confidence'], unique=False)
        batch_op.create_index('ix_comments_topic_decision_minutes', ['topic', 'decision_minutes'], unique=False)

    backfill_decision_minutes()


def backfill_decision_minutes():
    """Fill the new column for comments decided before it existed, in each dialect's date maths."""
    if op.get_bind().dialect.name == "postgresql":
        minutes = "EXTRACT(EPOCH FROM decided_at - created_at) / 60.0"
    else:
        minutes = "(julianday(decided_at) - julianday(created_at)) * 1440.0"
    op.execute(f"UPDATE comments SET decision_minutes = {minutes} "
               "WHERE decided_at IS NOT NULL AND status != 'pending'")


def downgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_topic_decision_minutes')
        batch_op.drop_index('ix_comments_status_topic_confidence')
        batch_op.drop_index('ix_comments_status_topic_compound')
        batch_op.drop_index('ix_comments_status_created_topic')
        batch_op.drop_index('ix_comments_status_topic_sentiment')
        batch_op.create_index(batch_op.f('ix_comments_status_topic_sentiment'), ['status', 'topic', 'sentiment'], unique=False)
        batch_op.create_index(batch_op.f('ix_comments_status_created'), ['status', 'created_at'], unique=False)
        batch_op.drop_column('decision_minutes')

