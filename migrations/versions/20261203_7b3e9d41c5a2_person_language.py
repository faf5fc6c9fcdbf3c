"""person language: the language of each person's pages and emails

Empty until the person chooses one on their settings page or first signs in (then their
browser's, if it is one of LANGUAGES); pages then follow the browser, emails the default
language.

Revision ID: 7b3e9d41c5a2
Revises: 5c1e9b7a2d40
Create Date: 2026-12-03 19:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '7b3e9d41c5a2'
down_revision = '5c1e9b7a2d40'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user') as batch:
        batch.add_column(sa.Column('language', sa.String(length=10), nullable=True))


def downgrade():
    with op.batch_alter_table('user') as batch:
        batch.drop_column('language')
