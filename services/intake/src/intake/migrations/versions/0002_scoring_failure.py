"""Remember why scoring gave up on an application's job, so that a replay of that job can resume it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Set when the application went UNDER_REVIEW because its scoring job failed; every later status
    # change clears it.
    op.execute("ALTER TABLE applications ADD COLUMN scoring_failure text")


def downgrade() -> None:
    op.execute("ALTER TABLE applications DROP COLUMN scoring_failure")
