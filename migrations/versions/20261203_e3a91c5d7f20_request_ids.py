"""request ids: the HTTP request that queued an email or last wrote a request's timer

The worker binds it again while it sends the email or fires the timer, so its log lines name
the request that caused them (README, "Operating").

Revision ID: e3a91c5d7f20
Revises: 6b2f4c8e1a57
Create Date: 2026-12-03 17:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'e3a91c5d7f20'
down_revision = '6b2f4c8e1a57'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_message') as batch:
        batch.add_column(sa.Column('request_id', sa.String(length=64), nullable=True))
    with op.batch_alter_table('process_instance') as batch:
        batch.add_column(sa.Column('request_id', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('process_instance') as batch:
        batch.drop_column('request_id')
    with op.batch_alter_table('outbox_message') as batch:
        batch.drop_column('request_id')
