"""sign-ins and failed sign-ins: revocable sessions and remember-me, throttled guessing

sign_in holds one row per signed-in browser (the SHA-256 of the key its cookies carry, when
it expires, when it was last seen); signing out deletes it. failed_sign_in counts wrong
passwords per address typed and per client within a window, across every web process.
Existing sessions carry a bare user id, which no sign-in row matches: everyone signs in once
more after this upgrade.

Revision ID: 7d0b85997b27
Revises: 732a09c60655
Create Date: 2026-12-03 10:34:42.217375

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7d0b85997b27'
down_revision = '732a09c60655'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('failed_sign_in',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('client', sa.String(length=64), nullable=False),
    sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_failed_sign_in'))
    )
    with op.batch_alter_table('failed_sign_in', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_failed_sign_in_attempted_at'), ['attempted_at'], unique=False)
        batch_op.create_index('ix_failed_sign_in_client_at', ['client', 'attempted_at'], unique=False)
        batch_op.create_index('ix_failed_sign_in_email_at', ['email', 'attempted_at'], unique=False)

    op.create_table('sign_in',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('remember', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_sign_in_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_sign_in_key_hash'))
    )
    with op.batch_alter_table('sign_in', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sign_in_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('sign_in', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_user_id'))
        batch_op.drop_index(batch_op.f('ix_sign_in_expires_at'))

    op.drop_table('sign_in')
    with op.batch_alter_table('failed_sign_in', schema=None) as batch_op:
        batch_op.drop_index('ix_failed_sign_in_email_at')
        batch_op.drop_index('ix_failed_sign_in_client_at')
        batch_op.drop_index(batch_op.f('ix_failed_sign_in_attempted_at'))

    op.drop_table('failed_sign_in')
