"""job claims walk an index in id order instead of sorting the backlog; one unused index less

A claim leases the oldest due jobs of one kind and state. With (kind, state, run_after, id) the
oldest-first order meant sorting every due job, under SQLite's write lock; with (kind, state, id)
the claim walks the index in id order and stops at its limit, whatever the backlog.

`ix_comments_status_topic_compound` served the dashboard's VADER averages, which 0008 moved to the
sentiment model's score; no query reads it, and every posted comment paid for keeping it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 04:00:00

"""
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_kind_state_run_after')
        batch_op.create_index('ix_jobs_kind_state_id', ['kind', 'state', 'id'], unique=False)
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_status_topic_compound')


def downgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index('ix_comments_status_topic_compound', ['status', 'topic', 'sentiment_compound'],
                              unique=False)
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_kind_state_id')
        batch_op.create_index('ix_jobs_kind_state_run_after', ['kind', 'state', 'run_after', 'id'], unique=False)
