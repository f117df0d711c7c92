"""solve runs on workers: time limit, worker, heartbeat, attempts, progress as key and params;
the pieces of a large day's run

A run belongs to the worker that claimed it and is alive while its heartbeat is fresh; at most
one queued or running run per day and retailer (a partial unique index, on SQLite and
PostgreSQL alike). Progress is a message-catalog key with parameters, rendered per language.

Revision ID: jobs1
Revises: domain1
Create Date: 2026-12-01 21:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'jobs1'
down_revision = 'domain1'
branch_labels = None
depends_on = None

ACTIVE = sa.text("status IN ('queued', 'running')")


def upgrade():
    with op.batch_alter_table('solve_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_limit', sa.Float(), nullable=False, server_default='20'))
        batch_op.add_column(sa.Column('worker', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('started_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('progress_key', sa.String(length=60), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('progress_params', sa.JSON(), nullable=False, server_default='{}'))
    # runs of the old in-process threads that never ended cannot be resumed by anyone
    op.execute("UPDATE solve_runs SET status = 'failed', message = 'abandoned: the process running it stopped' "
               "WHERE status IN ('queued', 'running')")
    op.create_index('uq_solve_runs_active_day', 'solve_runs', ['date', 'retailer_id'], unique=True,
                    sqlite_where=ACTIVE, postgresql_where=ACTIVE)
    op.create_table('solve_run_pieces',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('index', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('time_limit', sa.Float(), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('compound_ids', sa.JSON(), nullable=False),
    sa.Column('worker', sa.String(length=200), nullable=False),
    sa.Column('claimed_at', sa.DateTime(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['solve_runs.id'], name=op.f('fk_solve_run_pieces_run_id_solve_runs'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_solve_run_pieces')),
    sa.UniqueConstraint('run_id', 'index', name=op.f('uq_solve_run_pieces_run_id'))
    )
    with op.batch_alter_table('solve_run_pieces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_solve_run_pieces_run_id'), ['run_id'], unique=False)


def downgrade():
    op.drop_table('solve_run_pieces')
    op.drop_index('uq_solve_runs_active_day', table_name='solve_runs')
    with op.batch_alter_table('solve_runs', schema=None) as batch_op:
        for column in ('progress_params', 'progress_key', 'attempts', 'started_at', 'heartbeat_at',
                       'worker', 'time_limit'):
            batch_op.drop_column(column)
