"""initial store: batches, documents, pages, forms, fields, flags, corrections, users,
worker heartbeats and leases

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def _id():
    return sa.Column('id', sa.Integer(), primary_key=True)


def upgrade() -> None:
    op.create_table(
        'users', _id(),
        sa.Column('name', sa.String(200), nullable=False),
        sa.Column('display_name', sa.String(200)),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.UniqueConstraint('name', name='uq_users_name'))
    op.create_table(
        'batches', _id(),
        sa.Column('name', sa.String(200), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.UniqueConstraint('name', name='uq_batches_name'))
    op.create_table(
        'documents', _id(),
        sa.Column('sha256', sa.String(64), nullable=False),
        sa.Column('path', sa.Text(), nullable=False),
        sa.Column('file_name', sa.String(500), nullable=False),
        sa.Column('size_bytes', sa.BigInteger()),
        sa.Column('status', sa.String(16), nullable=False),
        sa.Column('error', sa.Text()),
        sa.Column('page_count', sa.Integer()),
        sa.Column('submitted_at', sa.DateTime(), nullable=False),
        sa.Column('started_at', sa.DateTime()),
        sa.Column('finished_at', sa.DateTime()),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('requeues', sa.Integer(), nullable=False),
        sa.Column('timings', sa.JSON()),
        sa.Column('result', sa.JSON()),
        sa.UniqueConstraint('sha256', name='uq_documents_sha256'))
    op.create_index('ix_documents_status', 'documents', ['status'])
    op.create_table(
        'batch_items', _id(),
        sa.Column('batch_id', sa.Integer(), sa.ForeignKey(
            'batches.id', ondelete='CASCADE', name='fk_batch_items_batch_id_batches'), nullable=False),
        sa.Column('document_id', sa.Integer(), sa.ForeignKey(
            'documents.id', ondelete='CASCADE', name='fk_batch_items_document_id_documents'), nullable=False),
        sa.Column('path', sa.Text(), nullable=False),
        sa.Column('added_at', sa.DateTime(), nullable=False),
        sa.UniqueConstraint('batch_id', 'document_id', name='uq_batch_items_batch_id_document_id'))
    op.create_index('ix_batch_items_batch_id', 'batch_items', ['batch_id'])
    op.create_index('ix_batch_items_document_id', 'batch_items', ['document_id'])
    op.create_table(
        'pages', _id(),
        sa.Column('document_id', sa.Integer(), sa.ForeignKey(
            'documents.id', ondelete='CASCADE', name='fk_pages_document_id_documents'), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(16), nullable=False),
        sa.Column('error', sa.Text()),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('worker', sa.String(200)),
        sa.Column('started_at', sa.DateTime()),
        sa.Column('finished_at', sa.DateTime()),
        sa.Column('seconds', sa.Float()),
        sa.Column('image_path', sa.Text()),
        sa.Column('width', sa.Integer()),
        sa.Column('height', sa.Integer()),
        sa.Column('dpi', sa.Integer()),
        sa.Column('result', sa.JSON()),
        sa.UniqueConstraint('document_id', 'number', name='uq_pages_document_id_number'))
    op.create_index('ix_pages_document_id', 'pages', ['document_id'])
    op.create_table(
        'forms', _id(),
        sa.Column('document_id', sa.Integer(), sa.ForeignKey(
            'documents.id', ondelete='CASCADE', name='fk_forms_document_id_documents'), nullable=False),
        sa.Column('form_index', sa.Integer(), nullable=False),
        sa.Column('pages', sa.JSON(), nullable=False),
        sa.Column('year', sa.String(20)),
        sa.Column('project_name', sa.Text()),
        sa.Column('department', sa.Text()),
        sa.Column('implementing_unit', sa.Text()),
        sa.UniqueConstraint('document_id', 'form_index', name='uq_forms_document_id_form_index'))
    op.create_index('ix_forms_document_id', 'forms', ['document_id'])
    op.create_table(
        'fields', _id(),
        sa.Column('form_id', sa.Integer(), sa.ForeignKey(
            'forms.id', ondelete='CASCADE', name='fk_fields_form_id_forms'), nullable=False),
        sa.Column('path', sa.String(100), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('value', sa.Text()),
        sa.Column('extracted_value', sa.Text()),
        sa.Column('confidence', sa.Float()),
        sa.Column('page', sa.Integer()),
        sa.Column('bbox', sa.JSON()),
        sa.UniqueConstraint('form_id', 'path', name='uq_fields_form_id_path'))
    op.create_index('ix_fields_form_id', 'fields', ['form_id'])
    op.create_table(
        'flags', _id(),
        sa.Column('document_id', sa.Integer(), sa.ForeignKey(
            'documents.id', ondelete='CASCADE', name='fk_flags_document_id_documents'), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('form_id', sa.Integer(), sa.ForeignKey(
            'forms.id', ondelete='CASCADE', name='fk_flags_form_id_forms')),
        sa.Column('form_index', sa.Integer(), nullable=False),
        sa.Column('field', sa.String(100), nullable=False),
        sa.Column('reason', sa.String(40), nullable=False),
        sa.Column('value', sa.Text()),
        sa.Column('confidence', sa.Float()),
        sa.Column('page', sa.Integer()),
        sa.Column('bbox', sa.JSON()),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.UniqueConstraint('document_id', 'position', name='uq_flags_document_id_position'))
    op.create_index('ix_flags_document_id', 'flags', ['document_id'])
    op.create_index('ix_flags_form_id', 'flags', ['form_id'])
    op.create_table(
        'corrections', _id(),
        sa.Column('field_id', sa.Integer(), sa.ForeignKey(
            'fields.id', ondelete='CASCADE', name='fk_corrections_field_id_fields'), nullable=False),
        sa.Column('user_id', sa.Integer(), sa.ForeignKey(
            'users.id', name='fk_corrections_user_id_users'), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('old_value', sa.Text()),
        sa.Column('new_value', sa.Text()))
    op.create_index('ix_corrections_field_id', 'corrections', ['field_id'])
    op.create_index('ix_corrections_user_id', 'corrections', ['user_id'])
    op.create_table(
        'workers',
        sa.Column('name', sa.String(200), primary_key=True),
        sa.Column('host', sa.String(200), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=False),
        sa.Column('broker', sa.Text(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('seen_at', sa.DateTime(), nullable=False))
    op.create_table(
        'leases',
        sa.Column('name', sa.String(100), primary_key=True),
        sa.Column('holder', sa.String(200)),
        sa.Column('expires_at', sa.DateTime()))


def downgrade() -> None:
    for table in ('leases', 'workers', 'corrections', 'flags', 'fields', 'forms', 'pages',
                  'batch_items', 'documents', 'batches', 'users'):
        op.drop_table(table)
