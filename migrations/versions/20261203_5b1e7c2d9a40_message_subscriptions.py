"""message subscriptions: the messages each running request waits for

One row per (request, message name, correlation key) a request waits for, kept in step with
each save of the request; the index on (message_name, correlation_key) finds the receivers of
a message without loading any workflow.

Revision ID: 5b1e7c2d9a40
Revises: 5c1e7a9d2b40
Create Date: 2026-12-03 12:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b1e7c2d9a40'
down_revision = "5c1e7a9d2b40"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'message_subscription',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('message_name', sa.String(length=200), nullable=False),
        sa.Column('correlation_key', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'],
                                name=op.f('fk_message_subscription_instance_id_process_instance'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_message_subscription')),
    )
    with op.batch_alter_table('message_subscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_subscription_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index('ix_message_subscription_name_key', ['message_name', 'correlation_key'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('message_subscription', schema=None) as batch_op:
        batch_op.drop_index('ix_message_subscription_name_key')
        batch_op.drop_index(batch_op.f('ix_message_subscription_instance_id'))
    op.drop_table('message_subscription')
