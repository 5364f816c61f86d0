"""review: user passwords and roles, flag states (open/resolved, by whom, why and a queue
rank), acceptances, and double-keyed entries of money values

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# As store.models.REASON_RANK (copied: a migration must not change with the code).
REASON_RANK = {'arithmetic': 0, 'split_number': 1, 'low_confidence': 2, 'unparsed': 3,
               'missing': 4, 'structure': 5}


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('password_hash', sa.String(200)))
        batch.add_column(sa.Column('role', sa.String(20), nullable=False, server_default='reviewer'))
    with op.batch_alter_table('flags') as batch:
        batch.add_column(sa.Column('status', sa.String(16), nullable=False, server_default='open'))
        batch.add_column(sa.Column('rank', sa.Integer(), nullable=False, server_default='9'))
        batch.add_column(sa.Column('resolution', sa.String(20)))
        batch.add_column(sa.Column('resolved_by_id', sa.Integer(), sa.ForeignKey(
            'users.id', name='fk_flags_resolved_by_id_users')))
        batch.add_column(sa.Column('resolved_at', sa.DateTime()))
    flags = sa.table('flags', sa.column('reason', sa.String), sa.column('rank', sa.Integer))
    op.execute(flags.update().values(rank=sa.case(
        *[(flags.c.reason == reason, rank) for reason, rank in REASON_RANK.items()], else_=9)))
    op.create_index('ix_flags_status_rank', 'flags', ['status', 'rank', 'document_id', 'position'])
    op.create_index('ix_flags_form_id_field', 'flags', ['form_id', 'field'])
    op.create_table(
        'acceptances',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('form_id', sa.Integer(), sa.ForeignKey(
            'forms.id', ondelete='CASCADE', name='fk_acceptances_form_id_forms'), nullable=False),
        sa.Column('path', sa.String(100), nullable=False),
        sa.Column('user_id', sa.Integer(), sa.ForeignKey(
            'users.id', name='fk_acceptances_user_id_users'), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('value', sa.Text()),
        sa.Column('reasons', sa.Text(), nullable=False))
    op.create_index('ix_acceptances_form_id', 'acceptances', ['form_id'])
    op.create_index('ix_acceptances_user_id', 'acceptances', ['user_id'])
    op.create_table(
        'key_entries',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('field_id', sa.Integer(), sa.ForeignKey(
            'fields.id', ondelete='CASCADE', name='fk_key_entries_field_id_fields'), nullable=False),
        sa.Column('user_id', sa.Integer(), sa.ForeignKey(
            'users.id', name='fk_key_entries_user_id_users'), nullable=False),
        sa.Column('kind', sa.String(16), nullable=False),
        sa.Column('value', sa.Text()),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('settled', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index('ix_key_entries_field_id', 'key_entries', ['field_id'])
    op.create_index('ix_key_entries_user_id', 'key_entries', ['user_id'])


def downgrade() -> None:
    op.drop_table('key_entries')
    op.drop_table('acceptances')
    op.drop_index('ix_flags_form_id_field', 'flags')
    op.drop_index('ix_flags_status_rank', 'flags')
    with op.batch_alter_table('flags') as batch:
        for column in ('resolved_at', 'resolved_by_id', 'resolution', 'rank', 'status'):
            batch.drop_column(column)
    with op.batch_alter_table('users') as batch:
        batch.drop_column('role')
        batch.drop_column('password_hash')
