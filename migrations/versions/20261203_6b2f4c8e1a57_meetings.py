"""meetings: a working group's meetings, invitees and their answers, claims per meeting

Also: agenda files (attachment.meeting_id), a working group's year (starts_on, ends_on, and when its end reminder went out), files
on outbox messages (a meeting's calendar invitation), and action tokens that answer a
meeting invitation instead of deciding a task (task_id may be empty, meeting_id names it).

Revision ID: 6b2f4c8e1a57
Revises: 5b1e7c2d9a40
Create Date: 2026-12-03 13:40:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '6b2f4c8e1a57'
down_revision = '5b1e7c2d9a40'
branch_labels = None
depends_on = None

ANSWER = sa.Enum('IN_PERSON', 'ONLINE', 'NOT_ATTENDING', name='answer', native_enum=False, length=20)


def upgrade():
    op.create_table(
        'meeting',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('time_zone', sa.String(length=64), nullable=False),
        sa.Column('mode', sa.Enum('IN_PERSON', 'ONLINE', name='meetingmode', native_enum=False, length=20),
                  nullable=False),
        sa.Column('city', sa.String(length=120), nullable=False),
        sa.Column('venue', sa.String(length=300), nullable=False),
        sa.Column('online_link', sa.String(length=500), nullable=False),
        sa.Column('agenda', sa.Text(), nullable=False),
        sa.Column('status', sa.Enum('PLANNED', 'CANCELLED', name='meetingstatus', native_enum=False, length=20),
                  nullable=False),
        sa.Column('uid', sa.String(length=200), nullable=False),
        sa.Column('sequence', sa.Integer(), nullable=False),
        sa.Column('planned_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('attendance_recorded_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['group_id'], ['working_group.id'], name=op.f('fk_meeting_group_id_working_group'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['planned_by_id'], ['user.id'], name=op.f('fk_meeting_planned_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting')),
        sa.UniqueConstraint('uid', name=op.f('uq_meeting_uid')),
    )
    op.create_index(op.f('ix_meeting_group_id'), 'meeting', ['group_id'])
    op.create_index(op.f('ix_meeting_starts_at'), 'meeting', ['starts_at'])
    op.create_table(
        'meeting_invitee',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('meeting_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('answer', ANSWER, nullable=True),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('answered_by_email', sa.Boolean(), nullable=False),
        sa.Column('attended', ANSWER, nullable=True),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_meeting_invitee_meeting_id_meeting'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_meeting_invitee_user_id_user')),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'],
                                name=op.f('fk_meeting_invitee_recorded_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_invitee')),
        sa.UniqueConstraint('meeting_id', 'user_id', name=op.f('uq_meeting_invitee_meeting_id')),
    )
    op.create_index(op.f('ix_meeting_invitee_user_id'), 'meeting_invitee', ['user_id'])
    op.create_table(
        'meeting_claim',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('meeting_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_meeting_claim_meeting_id_meeting'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_meeting_claim_user_id_user')),
        sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'],
                                name=op.f('fk_meeting_claim_instance_id_process_instance'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_claim')),
        sa.UniqueConstraint('meeting_id', 'user_id', name=op.f('uq_meeting_claim_meeting_id')),
    )
    op.create_index(op.f('ix_meeting_claim_instance_id'), 'meeting_claim', ['instance_id'])
    with op.batch_alter_table('working_group', schema=None) as batch_op:
        batch_op.add_column(sa.Column('starts_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('ends_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('year_reminder_sent_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attachments', sa.JSON(), nullable=True))
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('meeting_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_attachment_meeting_id_meeting'), 'meeting', ['meeting_id'],
                                    ['id'], ondelete='CASCADE')
        batch_op.create_index(batch_op.f('ix_attachment_meeting_id'), ['meeting_id'])
    with op.batch_alter_table('action_token', schema=None) as batch_op:
        batch_op.alter_column('task_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('meeting_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_action_token_meeting_id_meeting'), 'meeting', ['meeting_id'],
                                    ['id'], ondelete='CASCADE')
        batch_op.create_index(batch_op.f('ix_action_token_meeting_id'), ['meeting_id'])


def downgrade():
    op.execute("DELETE FROM action_token WHERE task_id IS NULL")
    with op.batch_alter_table('action_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_token_meeting_id'))
        batch_op.drop_constraint(batch_op.f('fk_action_token_meeting_id_meeting'), type_='foreignkey')
        batch_op.drop_column('meeting_id')
        batch_op.alter_column('task_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachment_meeting_id'))
        batch_op.drop_constraint(batch_op.f('fk_attachment_meeting_id_meeting'), type_='foreignkey')
        batch_op.drop_column('meeting_id')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('attachments')
    with op.batch_alter_table('working_group', schema=None) as batch_op:
        batch_op.drop_column('year_reminder_sent_at')
        batch_op.drop_column('ends_on')
        batch_op.drop_column('starts_on')
    op.drop_index(op.f('ix_meeting_claim_instance_id'), table_name='meeting_claim')
    op.drop_table('meeting_claim')
    op.drop_index(op.f('ix_meeting_invitee_user_id'), table_name='meeting_invitee')
    op.drop_table('meeting_invitee')
    op.drop_index(op.f('ix_meeting_starts_at'), table_name='meeting')
    op.drop_index(op.f('ix_meeting_group_id'), table_name='meeting')
    op.drop_table('meeting')
