"""background jobs, worker heartbeats, classification errors and the article cache version

Classification moves off the request path: a comment is stored with a `classify` job in the same
transaction, and background workers claim jobs with a lease. `worker_heartbeats` lets the
operators' page show whether a worker with a loaded model is alive. `articles.comments_version`
keys the cached comment list; `comments.classification_error` marks comments the model could
not handle. Existing unclassified comments get a job, so nothing stored earlier is left behind.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 21:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('subject_id', sa.Integer(), nullable=True),
        sa.Column('payload', sa.JSON(), nullable=True),
        sa.Column('state', sa.Enum('queued', 'running', 'done', 'failed', name='job_state',
                                   native_enum=False, length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('run_after', sa.DateTime(), nullable=False),
        sa.Column('claim_token', sa.String(length=64), nullable=True),
        sa.Column('lease_until', sa.DateTime(), nullable=True),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index('ix_jobs_kind_state_run_after', ['kind', 'state', 'run_after', 'id'], unique=False)
        batch_op.create_index('ix_jobs_kind_subject', ['kind', 'subject_id'], unique=False)
    op.create_table(
        'worker_heartbeats',
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(), nullable=False),
        sa.Column('model_version', sa.String(length=80), nullable=True),
        sa.Column('model_error', sa.String(length=500), nullable=True),
        sa.Column('jobs_done', sa.Integer(), nullable=False),
        sa.Column('jobs_failed', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('comments_version', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('classification_error', sa.String(length=300), nullable=True))
    op.execute(
        "INSERT INTO jobs (kind, subject_id, state, attempts, run_after, created_at) "
        "SELECT 'classify', id, 'queued', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP "
        "FROM comments WHERE topic IS NULL"
    )


def downgrade():
    # Plain DROP COLUMN (SQLite 3.35+ and PostgreSQL): a batch rebuild of `articles` would have to
    # drop a table that comments reference, which SQLite's enforced foreign keys refuse.
    op.execute('ALTER TABLE comments DROP COLUMN classification_error')
    op.execute('ALTER TABLE articles DROP COLUMN comments_version')
    op.drop_table('worker_heartbeats')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_kind_subject')
        batch_op.drop_index('ix_jobs_kind_state_run_after')
    op.drop_table('jobs')
