"""request figures: the amounts, days, flags and dates the reports add up

process_instance.figures is a JSON object of the few values of a request's workflow data that
the reports aggregate (app/steps/figures.py), written by the step writer with the rest of the
row. Requests that ran before have none until `flask reports figures` fills them in from their
saved workflows (the column is NULL until then, and the reports leave such requests out).

Revision ID: b7e2d4f1a9c3
Revises: 3f8d2a6c1b90
Create Date: 2026-12-03 19:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'b7e2d4f1a9c3'
down_revision = '3f8d2a6c1b90'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('figures', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.drop_column('figures')
