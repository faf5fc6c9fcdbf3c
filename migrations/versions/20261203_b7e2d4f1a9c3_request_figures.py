"""request figures: the amounts, days, flags and dates the reports add up, in a narrow table

request_figures holds, per request, the few values of its workflow data the reports aggregate
(app/steps/figures.py) beside copies of the request's columns they filter and group by, so a
report reads narrow rows instead of the requests' wide ones with their saved states. The step
writer keeps it in step with the request's row. Requests that ran before have no row until
`flask backfill` fills them in from their saved workflows (docs/REPORTS.md).

Revision ID: b7e2d4f1a9c3
Revises: b7c2e4f81a3d
Create Date: 2026-12-03 19:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e2d4f1a9c3'
down_revision = 'b7c2e4f81a3d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'request_figures',
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('process_id', sa.String(length=100), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('working_group_id', sa.Integer(), nullable=True),
        sa.Column('initiator_id', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', sa.Enum('RUNNING', 'COMPLETED', 'CANCELLED', 'ERROR', name='instancestatus',
                                    native_enum=False, length=20), nullable=False),
        sa.Column('outcome', sa.String(length=100), nullable=False),
        sa.Column('figures', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'],
                                name=op.f('fk_request_figures_instance_id_process_instance'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('instance_id', name=op.f('pk_request_figures')),
    )
    with op.batch_alter_table('request_figures', schema=None) as batch_op:
        batch_op.create_index('ix_request_figures_process_started', ['process_id', 'started_at'], unique=False)


def downgrade():
    with op.batch_alter_table('request_figures', schema=None) as batch_op:
        batch_op.drop_index('ix_request_figures_process_started')
    op.drop_table('request_figures')
