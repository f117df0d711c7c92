"""a run is a solve or a re-plan: its kind and what it was asked (a re-plan's truck and time)

A re-plan runs on the workers like a solve and shares the one-active-run-per-day index with
solves: a day never has two writers.

Revision ID: day21
Revises: jobs1
Create Date: 2026-12-01 22:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'day21'
down_revision = 'jobs1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('solve_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), nullable=False, server_default='solve'))
        batch_op.add_column(sa.Column('asked', sa.JSON(), nullable=False, server_default='{}'))


def downgrade():
    with op.batch_alter_table('solve_runs', schema=None) as batch_op:
        batch_op.drop_column('asked')
        batch_op.drop_column('kind')
