"""articles' canonical URLs, allowed origins, API tokens, webhook endpoints, import ids, job sequences

`articles.canonical_url` ties an article to its page on the news site (embed, importers);
`allowed_origins` lists the sites that may embed the comments and post from a browser (CORS), each
with its own auto-registration switch; `api_tokens` keeps only the SHA-256 of each personal token;
`webhook_endpoints` lists where signed events go (the deliveries themselves are `webhook` rows in
`jobs`, written in the same transaction as the change: the outbox); `jobs.sequence_key` makes jobs
sharing a key run one at a time in order (deliveries for one comment and endpoint);
`comments.external_id` is the import source's id, so re-running an import adds nothing twice.
Unique indexes, not constraints, so SQLite adds them without rebuilding a referenced table.

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-02 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('canonical_url', sa.String(length=500), nullable=True))
    op.create_index('ix_articles_canonical_url', 'articles', ['canonical_url'], unique=True)
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('external_id', sa.String(length=200), nullable=True))
    op.create_index('ix_comments_external_id', 'comments', ['external_id'], unique=True)
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sequence_key', sa.String(length=200), nullable=True))
    op.create_index('ix_jobs_sequence_key', 'jobs', ['sequence_key', 'id'], unique=False)
    op.create_table(
        'allowed_origins',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('origin', sa.String(length=300), nullable=False),
        sa.Column('auto_register', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('origin'),
    )
    op.create_table(
        'api_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('prefix', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_used_at', sa.DateTime(), nullable=True),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_index('ix_api_tokens_user', 'api_tokens', ['user_id'], unique=False)
    op.create_table(
        'webhook_endpoints',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('url', sa.String(length=500), nullable=False),
        sa.Column('secret', sa.String(length=100), nullable=False),
        sa.Column('events', sa.JSON(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade():
    op.drop_table('webhook_endpoints')
    op.drop_index('ix_api_tokens_user', table_name='api_tokens')
    op.drop_table('api_tokens')
    op.drop_table('allowed_origins')
    # Plain DROP COLUMN (SQLite 3.35+ and PostgreSQL): a batch rebuild of a referenced table fails.
    op.drop_index('ix_jobs_sequence_key', table_name='jobs')
    op.execute('ALTER TABLE jobs DROP COLUMN sequence_key')
    op.drop_index('ix_comments_external_id', table_name='comments')
    op.execute('ALTER TABLE comments DROP COLUMN external_id')
    op.drop_index('ix_articles_canonical_url', table_name='articles')
    op.execute('ALTER TABLE articles DROP COLUMN canonical_url')
