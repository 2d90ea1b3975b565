"""moderation tools: label corrections, commenters, word lists, settings

`label_corrections` keeps moderators' corrections of the model's topic and sentiment apart from
the labels the model gave (which stay on the comment), with who, when, the old and the new label
and the model version: training data for a later model. `comments.email_hash` (a keyed hash of
the address, filled in here for stored comments) finds a commenter's history; `commenter_actions`
records bans, suspensions and their lifting; `word_list_entries` holds the banned and suspect
phrases; `site_settings` holds settings admins change on a page.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 23:30:00

"""
import hashlib
import hmac

from alembic import op
from flask import current_app
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
    op.create_table(
        'commenter_actions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('action', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.String(length=300), nullable=True),
        sa.Column('until', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_commenter_actions_hash', 'commenter_actions', ['email_hash', 'id'], unique=False)
    op.create_table(
        'word_list_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('phrase', sa.String(length=100), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('kind', 'phrase', name='uq_word_list_entries_kind_phrase'),
    )
    op.create_table(
        'site_settings',
        sa.Column('key', sa.String(length=50), nullable=False),
        sa.Column('value', sa.String(length=200), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_hash', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_comments_email_hash', ['email_hash'], unique=False)
    fill_email_hashes()


def fill_email_hashes():
    """Hash the addresses already stored, with the key the app uses (moderation.commenters)."""
    secret = current_app.config.get("SECRET_KEY") if current_app else None
    if not secret:
        return
    key = hashlib.sha256(b"commenter-email:" + secret.encode()).digest()
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT DISTINCT email FROM comments WHERE email IS NOT NULL")).all()
    for (email,) in rows:
        digest = hmac.new(key, email.encode(), hashlib.sha256).hexdigest()
        bind.execute(sa.text("UPDATE comments SET email_hash = :h WHERE email = :e"), {"h": digest, "e": email})


def downgrade():
    op.drop_index('ix_comments_email_hash', table_name='comments')
    op.execute('ALTER TABLE comments DROP COLUMN email_hash')
    op.drop_table('site_settings')
    op.drop_table('word_list_entries')
    op.drop_index('ix_commenter_actions_hash', table_name='commenter_actions')
    op.drop_table('commenter_actions')
    op.drop_index('ix_label_corrections_comment', table_name='label_corrections')
    op.drop_table('label_corrections')
