"""a run is a solve or a re-plan: its kind and what it was asked (a re-plan's truck and time);
drivers' breakdown reports, which the planner confirms (a re-plan run) or dismisses

A re-plan runs on the workers like a solve and shares the one-active-run-per-day index with
solves: a day never has two writers.

Revision ID: day21
Revises: district1
Create Date: 2026-12-01 22:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'day21'
down_revision = 'district1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('solve_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), nullable=False, server_default='solve'))
        batch_op.add_column(sa.Column('asked', sa.JSON(), nullable=False, server_default='{}'))
    op.create_table('breakdown_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('truck_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by', sa.String(length=100), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['truck_id'], ['trucks.id'], name=op.f('fk_breakdown_reports_truck_id_trucks')),
    sa.ForeignKeyConstraint(['run_id'], ['solve_runs.id'], name=op.f('fk_breakdown_reports_run_id_solve_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_breakdown_reports'))
    )
    with op.batch_alter_table('breakdown_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_breakdown_reports_truck_id'), ['truck_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_breakdown_reports_date'), ['date'], unique=False)


def downgrade():
    op.drop_table('breakdown_reports')
    with op.batch_alter_table('solve_runs', schema=None) as batch_op:
        batch_op.drop_column('asked')
        batch_op.drop_column('kind')
