"""task indexes: a task's history lines and files are read by the task, not by a scan

audit_event and attachment are read by their task_id (who asked for a task, who was added as a
deputy, whose answer a step shows, a form's files); without an index PostgreSQL reads every
history row of the database for each, 6.4 million at a million requests (docs/SCALING.md).

Revision ID: 5c1e9b7a2d40
Revises: 3f8d2a6c1b90
Create Date: 2026-12-03 19:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '5c1e9b7a2d40'
down_revision = '3f8d2a6c1b90'
branch_labels = None
depends_on = None

TABLES = ('audit_event', 'attachment')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(f'ix_{table}_task_id', ['task_id'], unique=False)


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f'ix_{table}_task_id')
