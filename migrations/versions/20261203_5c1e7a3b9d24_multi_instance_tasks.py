"""multi-instance tasks: which instance of which multi-instance step a task row is

human_task.loop_key is the multi-instance step's engine task id, the same for all its
instances (NULL for a task of no multi-instance); loop_counter is Camunda's loopCounter (from
0), loop_total its nrOfInstances, loop_label the instance's item as people read it ("Tallinn
City"). "2 of 5 done" counts the completed rows of the same loop_key and bpmn_id.

Revision ID: 5c1e7a3b9d24
Revises: c4e1a7d2b9f0
Create Date: 2026-12-03 13:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c1e7a3b9d24'
down_revision = 'c4e1a7d2b9f0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('loop_key', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('loop_counter', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('loop_total', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('loop_label', sa.String(length=100), nullable=True))
        batch_op.create_index('ix_human_task_loop', ['loop_key', 'bpmn_id', 'state'], unique=False)


def downgrade():
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_index('ix_human_task_loop')
        batch_op.drop_column('loop_label')
        batch_op.drop_column('loop_total')
        batch_op.drop_column('loop_counter')
        batch_op.drop_column('loop_key')
