"""personal data: legal hold, purge and erasure

process_instance.held_at and hold_reason: a request on legal hold (never purged) and the
administrator's reason; process_instance.purged_at: when its personal data was deleted.
user.pseudonym_id: the account that stands for the person in purged requests ("Person
4F2A9C"); user.erased_at: when the person was erased (a pseudonym's own row has it too).

Revision ID: b7d3e5f1a2c8
Revises: 7b3e9d41c5a2
Create Date: 2026-12-03 19:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d3e5f1a2c8'
down_revision = '7b3e9d41c5a2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('hold_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pseudonym_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_user_pseudonym_id_user'), 'user', ['pseudonym_id'], ['id'],
                                    ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_user_pseudonym_id_user'), type_='foreignkey')
        batch_op.drop_column('erased_at')
        batch_op.drop_column('pseudonym_id')
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.drop_column('purged_at')
        batch_op.drop_column('hold_reason')
        batch_op.drop_column('held_at')
