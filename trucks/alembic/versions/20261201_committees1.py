"""committee codes and report decisions

A compound's committee code (filing "cannot receive" needs it; the public link only reads),
given a random value for every existing compound; a report's withdrawal and a planner's
decision on it.

Revision ID: committees1
Revises: domain1
Create Date: 2026-12-01 21:30:00
"""
import secrets

from alembic import op
import sqlalchemy as sa


revision = 'committees1'
down_revision = 'domain1'
branch_labels = None
depends_on = None

#: as trucks.models.new_committee_code (a revision never imports the models it migrates)
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def upgrade() -> None:
    with op.batch_alter_table('compounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('committee_code', sa.String(length=32), nullable=True))
    compounds = sa.table('compounds', sa.column('id', sa.Integer), sa.column('committee_code', sa.String))
    connection = op.get_bind()
    for (compound_id,) in connection.execute(sa.select(compounds.c.id)).all():
        code = "".join(secrets.choice(ALPHABET) for _ in range(12))
        connection.execute(compounds.update().where(compounds.c.id == compound_id).values(committee_code=code))
    with op.batch_alter_table('compounds', schema=None) as batch_op:
        batch_op.alter_column('committee_code', existing_type=sa.String(length=32), nullable=False)

    with op.batch_alter_table('committee_reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('decision', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('decision_reason', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('decided_by', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('decided_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('committee_reports', schema=None) as batch_op:
        for column in ('decided_at', 'decided_by', 'decision_reason', 'decision', 'withdrawn_at'):
            batch_op.drop_column(column)
    with op.batch_alter_table('compounds', schema=None) as batch_op:
        batch_op.drop_column('committee_code')
