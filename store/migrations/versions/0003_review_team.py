"""review team: login sessions kept in the store (logout and idle expiry end them on
the server), login throttling, an audit log, batches assigned to reviewers, claims on
open queue items and a log of items done (for progress); the admin role; indexes for
the review queue; row_edits (structure repairs of a form's tables)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def _fk(column, table, name, ondelete='CASCADE'):
    return sa.ForeignKey(f'{table}.id', ondelete=ondelete, name=name)


def upgrade() -> None:
    # The review queue: open flags in queue order (reason rank, confidence, document,
    # position), and a covering index to count the open items.
    op.create_index('ix_flags_queue', 'flags', ['status', 'rank', 'confidence', 'document_id', 'position'])
    op.create_index('ix_flags_open_items', 'flags', ['status', 'document_id', 'form_id', 'field'])
    op.create_table(
        'login_sessions',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('token_hash', sa.String(64), nullable=False),
        sa.Column('user_id', sa.Integer(), _fk('user_id', 'users', 'fk_login_sessions_user_id_users'),
                  nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_seen', sa.DateTime(), nullable=False),
        sa.Column('revoked_at', sa.DateTime()),
        sa.Column('address', sa.String(64)),
        sa.UniqueConstraint('token_hash', name='uq_login_sessions_token_hash'))
    op.create_index('ix_login_sessions_user_id', 'login_sessions', ['user_id'])
    op.create_table(
        'login_throttle',
        sa.Column('key', sa.String(300), primary_key=True),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('window_start', sa.DateTime(), nullable=False),
        sa.Column('locked_at', sa.DateTime()))
    op.create_table(
        'audit_log',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('event', sa.String(40), nullable=False),
        sa.Column('user_id', sa.Integer(), _fk('user_id', 'users', 'fk_audit_log_user_id_users', 'SET NULL')),
        sa.Column('name', sa.String(200)),
        sa.Column('address', sa.String(64)),
        sa.Column('detail', sa.Text(), nullable=False))
    op.create_index('ix_audit_log_at', 'audit_log', ['at'])
    op.create_index('ix_audit_log_event', 'audit_log', ['event'])
    op.create_table(
        'assignments',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('user_id', sa.Integer(), _fk('user_id', 'users', 'fk_assignments_user_id_users'),
                  nullable=False),
        sa.Column('batch_id', sa.Integer(), _fk('batch_id', 'batches', 'fk_assignments_batch_id_batches'),
                  nullable=False),
        sa.Column('assigned_at', sa.DateTime(), nullable=False),
        sa.UniqueConstraint('user_id', 'batch_id', name='uq_assignments_user_id_batch_id'))
    op.create_index('ix_assignments_user_id', 'assignments', ['user_id'])
    op.create_index('ix_assignments_batch_id', 'assignments', ['batch_id'])
    op.create_table(
        'claims',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('form_id', sa.Integer(), _fk('form_id', 'forms', 'fk_claims_form_id_forms'), nullable=False),
        sa.Column('path', sa.String(100), nullable=False),
        sa.Column('user_id', sa.Integer(), _fk('user_id', 'users', 'fk_claims_user_id_users'), nullable=False),
        sa.Column('claimed_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.UniqueConstraint('form_id', 'path', name='uq_claims_form_id_path'))
    op.create_index('ix_claims_user_id', 'claims', ['user_id'])
    op.create_index('ix_claims_expires_at', 'claims', ['expires_at'])
    op.create_table(
        'work_log',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('user_id', sa.Integer(), _fk('user_id', 'users', 'fk_work_log_user_id_users'), nullable=False),
        sa.Column('document_id', sa.Integer(), _fk('document_id', 'documents', 'fk_work_log_document_id_documents'),
                  nullable=False),
        sa.Column('form_id', sa.Integer(), _fk('form_id', 'forms', 'fk_work_log_form_id_forms'), nullable=False),
        sa.Column('path', sa.String(100), nullable=False),
        sa.Column('action', sa.String(20), nullable=False),
        sa.Column('started_at', sa.DateTime()),
        sa.Column('finished_at', sa.DateTime(), nullable=False))
    op.create_index('ix_work_log_user_id', 'work_log', ['user_id'])
    op.create_index('ix_work_log_document_id', 'work_log', ['document_id'])
    op.create_table(
        'row_edits',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('form_id', sa.Integer(), _fk('form_id', 'forms', 'fk_row_edits_form_id_forms'), nullable=False),
        sa.Column('block', sa.String(20), nullable=False),
        sa.Column('action', sa.String(10), nullable=False),
        sa.Column('row_index', sa.Integer(), nullable=False),
        sa.Column('values', sa.JSON(), nullable=False),
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id', name='fk_row_edits_user_id_users'),
                  nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False))
    op.create_index('ix_row_edits_form_id', 'row_edits', ['form_id'])
    op.create_index('ix_row_edits_user_id', 'row_edits', ['user_id'])


def downgrade() -> None:
    for table in ('row_edits', 'work_log', 'claims', 'assignments', 'audit_log', 'login_throttle', 'login_sessions'):
        op.drop_table(table)
    op.drop_index('ix_flags_open_items', 'flags')
    op.drop_index('ix_flags_queue', 'flags')
