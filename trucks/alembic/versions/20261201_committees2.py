"""page generation

One row whose number moves whenever what committee pages show may have changed: the committee
page cache checks it instead of querying the day.

Revision ID: committees2
Revises: committees1
Create Date: 2026-12-01 21:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'committees2'
down_revision = 'committees1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        'page_generations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('generation', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_page_generations')),
    )
    op.bulk_insert(table, [{'id': 1, 'generation': 0}])


def downgrade() -> None:
    op.drop_table('page_generations')
