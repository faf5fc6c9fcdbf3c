"""monitoring indexes: the list of every request stays an indexed query at any size

Newest first and "started between" use ix_instance_started; the version filter uses
ix_process_instance_version_id; "waiting for a role" reads READY tasks through
ix_human_task_state.

Revision ID: dc996f08edfa
Revises: 0d9da1f65df3
Create Date: 2026-11-26 04:49:06.332626

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'dc996f08edfa'
down_revision = '0d9da1f65df3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.create_index('ix_human_task_state', ['state', 'instance_id'], unique=False)

    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.create_index('ix_instance_started', ['started_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_process_instance_version_id'), ['version_id'], unique=False)


def downgrade():
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_process_instance_version_id'))
        batch_op.drop_index('ix_instance_started')

    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_index('ix_human_task_state')
