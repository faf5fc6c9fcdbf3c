"""called versions: the stored versions a request's call activities run

process_instance.called_versions is {process id: version id}, fixed when the request starts,
so a later upload never changes what a running request calls; NULL when its process calls none.

Revision ID: c4e1a7d2b9f0
Revises: 9e480116f16b
Create Date: 2026-12-03 13:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e1a7d2b9f0'
down_revision = '9e480116f16b'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('called_versions', sa.JSON(), nullable=True))
    # A called process's task rows are named <process id>:<task id>: two ids of up to 100.
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.alter_column('bpmn_id', existing_type=sa.String(length=100), type_=sa.String(length=201),
                              existing_nullable=False)


def downgrade():
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.alter_column('bpmn_id', existing_type=sa.String(length=201), type_=sa.String(length=100),
                              existing_nullable=False)
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.drop_column('called_versions')
