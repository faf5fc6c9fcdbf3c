"""name mappings: what the user and group names of uploaded diagrams stand for

Each row maps one name a diagram uses (``management``, ``demo``), unique without regard to
case (name_key is its lower-case form), to a person (user_id), a role or a group role (role).

Revision ID: 5c1e7a9d2b40
Revises: 5c1e7a3b9d24
Create Date: 2026-12-03 12:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c1e7a9d2b40'
down_revision = '5c1e7a3b9d24'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('name_mapping',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_key', sa.String(length=200), nullable=False),
    sa.Column('target', sa.Enum('PERSON', 'ROLE', 'GROUP_ROLE', name='nametarget', native_enum=False, length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_name_mapping_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_name_mapping')),
    sa.UniqueConstraint('name_key', name=op.f('uq_name_mapping_name_key'))
    )


def downgrade():
    op.drop_table('name_mapping')
