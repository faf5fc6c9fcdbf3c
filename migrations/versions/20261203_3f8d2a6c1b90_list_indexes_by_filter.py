"""list indexes by filter: the monitoring list and the history stay fast at a million requests

The list filtered by process, version, status or working group now reads the matching
requests newest first from an index (column, started_at, id) instead of walking every
request newest first until a page of matches turns up (seconds for an old version at a
million requests). Each replaces the one-column index on that column, whose lookups it
serves too. And audit_event gets an index on its action: the version history of a process
(Administration → Processes) and the tasks waiting for the administrators read a few rows of
one kind out of millions, by a full scan until now (1.3 s at a million requests). Figures and
plans: docs/SCALING.md.

Revision ID: 3f8d2a6c1b90
Revises: e3a91c5d7f20
Create Date: 2026-12-03 17:10:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '3f8d2a6c1b90'
down_revision = 'e3a91c5d7f20'
branch_labels = None
depends_on = None

REPLACED = {  # new index: (its leading column, the one-column index it replaces)
    'ix_instance_process_started': ('process_id', 'ix_process_instance_process_id'),
    'ix_instance_version_started': ('version_id', 'ix_process_instance_version_id'),
    'ix_instance_status_started': ('status', 'ix_process_instance_status'),
    'ix_instance_group_started': ('working_group_id', 'ix_process_instance_working_group_id'),
}


def upgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_action', ['action', 'created_at'], unique=False)
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        for name, (column, old) in REPLACED.items():
            batch_op.create_index(name, [column, 'started_at', 'id'], unique=False)
            batch_op.drop_index(old)


def downgrade():
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        for name, (column, old) in REPLACED.items():
            batch_op.create_index(old, [column], unique=False)
            batch_op.drop_index(name)
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_action')
