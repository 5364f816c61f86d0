"""review queue: a covering index to count the open items of one reason (the queue
filtered by reason), as ix_flags_open_items does for the whole queue

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_flags_open_reason', 'flags', ['status', 'reason', 'document_id', 'form_id', 'field'])


def downgrade() -> None:
    op.drop_index('ix_flags_open_reason', 'flags')
