"""sessions that end, and rate limits shared through the database

`users.session_generation` is part of every session's user id: bumping it ends all of the user's
sessions (log-out, password change, disabling). `users.disabled_at` marks a user an admin
disabled. `rate_limit_hits` is the default rate-limit storage, shared by every worker.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-01 22:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('disabled_at', sa.DateTime(), nullable=True))
    op.create_table(
        'rate_limit_hits',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('hit_at', sa.Double(), nullable=False),
        sa.Column('expires_at', sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_rate_limit_hits_key_expires', 'rate_limit_hits', ['key', 'expires_at'])
    op.create_index('ix_rate_limit_hits_expires', 'rate_limit_hits', ['expires_at'])


def downgrade():
    op.drop_index('ix_rate_limit_hits_expires', table_name='rate_limit_hits')
    op.drop_index('ix_rate_limit_hits_key_expires', table_name='rate_limit_hits')
    op.drop_table('rate_limit_hits')
    op.execute('ALTER TABLE users DROP COLUMN disabled_at')
    op.execute('ALTER TABLE users DROP COLUMN session_generation')
