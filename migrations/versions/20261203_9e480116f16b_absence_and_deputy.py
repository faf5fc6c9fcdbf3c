"""absence and deputy: a person's days away and who is asked too meanwhile

user.away_from and user.away_to are days in the display time zone, both included;
user.deputy_id is the person asked too for the tasks that open during the absence (set to
NULL if that person's row goes).

Revision ID: 9e480116f16b
Revises: a0a05976ee8a
Create Date: 2026-12-03 11:33:34.713782

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9e480116f16b'
down_revision = 'a0a05976ee8a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('away_from', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('away_to', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('deputy_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_user_deputy_id_user'), 'user', ['deputy_id'], ['id'],
                                    ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_user_deputy_id_user'), type_='foreignkey')
        batch_op.drop_column('deputy_id')
        batch_op.drop_column('away_to')
        batch_op.drop_column('away_from')
