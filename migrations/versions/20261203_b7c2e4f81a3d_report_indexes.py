"""report indexes: the flow report's figures read from indexes that hold every column they need

The flow report (issue 17) counts the requests started in a period by process, version,
status, end and time to finish, and their task rows by step, state, channel and time waited.
Each index covers its query, so neither reads the request rows (whose saved state makes each
row a page of its own): ix_instance_report leads with started_at (the period), and
ix_human_task_report with instance_id (a request's tasks). ix_human_task_ready_since finds
the tasks waiting since before a moment (those past their reminder). Figures: docs/REPORTS.md.

Revision ID: b7c2e4f81a3d
Revises: b7d3e5f1a2c8
Create Date: 2026-12-03 19:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b7c2e4f81a3d'
down_revision = 'b7d3e5f1a2c8'
branch_labels = None
depends_on = None

INSTANCE_REPORT = ['started_at', 'process_id', 'version_id', 'status', 'outcome', 'ended_at', 'working_group_id',
                   'initiator_id']
TASK_REPORT = ['instance_id', 'state', 'bpmn_id', 'channel', 'created_at', 'completed_at']


def upgrade():
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.create_index('ix_instance_report', INSTANCE_REPORT, unique=False)
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.create_index('ix_human_task_report', TASK_REPORT, unique=False)
        batch_op.create_index('ix_human_task_ready_since', ['state', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_index('ix_human_task_ready_since')
        batch_op.drop_index('ix_human_task_report')
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.drop_index('ix_instance_report')
