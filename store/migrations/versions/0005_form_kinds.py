"""form kinds: a form row says which kind (template) it is and keeps the value of its
kind's first header field as its name; the project form's own header columns go (the
header values are field rows like any other)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('forms') as batch:
        batch.add_column(sa.Column('schema', sa.String(60), nullable=False, server_default='perf-self-eval/1'))
        batch.add_column(sa.Column('name', sa.Text()))
    op.execute('UPDATE forms SET name = project_name')
    with op.batch_alter_table('forms') as batch:
        batch.drop_column('project_name')
        batch.drop_column('department')
        batch.drop_column('implementing_unit')


def downgrade() -> None:
    with op.batch_alter_table('forms') as batch:
        batch.add_column(sa.Column('project_name', sa.Text()))
        batch.add_column(sa.Column('department', sa.Text()))
        batch.add_column(sa.Column('implementing_unit', sa.Text()))
    op.execute('UPDATE forms SET project_name = name')
    with op.batch_alter_table('forms') as batch:
        batch.drop_column('name')
        batch.drop_column('schema')
