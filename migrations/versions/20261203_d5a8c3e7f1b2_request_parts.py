"""request parts: the raw values of a request's title and key fields

process_instance.parts holds {"title": {name: value}, "summary": [[field id, value], ...]}, the
values the title template and the summary=true fields were filled with, JSON-safe (dates ISO,
amounts as text), so pages and emails show them in the reader's language (app/outbox/shown.py).
NULL on the rows written before: they show their stored English title and summary until their
next step writes the parts.

Revision ID: d5a8c3e7f1b2
Revises: b7e2d4f1a9c3
Create Date: 2026-12-03 22:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5a8c3e7f1b2'
down_revision = 'b7e2d4f1a9c3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parts', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.drop_column('parts')
