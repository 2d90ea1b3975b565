"""indexes that only hold rows with a value: email, email hash, external id, job sequence key

Every posted comment wrote a page of each of these indexes inside SQLite's single write lock,
although most comments have no email, are not imported, and their classify job has no sequence
key. Partial indexes (WHERE column IS NOT NULL) leave those rows out; lookups by value use them
on SQLite and PostgreSQL alike, and uniqueness of external ids is unchanged (NULLs never clashed).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 06:30:00

"""
import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# (table, index, columns, unique, the column that must be set)
PARTIAL = [
    ('comments', 'ix_comments_email', ['email'], False, 'email'),
    ('comments', 'ix_comments_email_hash', ['email_hash'], False, 'email_hash'),
    ('comments', 'ix_comments_external_id', ['external_id'], True, 'external_id'),
    ('jobs', 'ix_jobs_sequence_key', ['sequence_key', 'id'], False, 'sequence_key'),
]


def upgrade():
    for table, name, columns, unique, column in PARTIAL:
        condition = sa.text(f'{column} IS NOT NULL')
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, unique=unique, sqlite_where=condition, postgresql_where=condition)


def downgrade():
    for table, name, columns, unique, _ in PARTIAL:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, unique=unique)
