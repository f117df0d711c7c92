"""committee codes and report decisions

A compound's committee code (filing "cannot receive" needs it; the public link only reads),
given a random value for every existing compound; a report's withdrawal and a planner's
decision on it.

Revision ID: committees1
Revises: jobs1
Create Date: 2026-12-01 21:30:00
"""
import secrets

from alembic import op
import sqlalchemy as sa


revision = 'committees1'
down_revision = 'jobs1'
branch_labels = None
depends_on = None

#: as trucks.models.new_committee_code (a revision never imports the models it migrates)
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def upgrade() -> None:
    # columns added in place (no table rebuild: other tables refer to compounds)
    op.add_column('compounds', sa.Column('committee_code', sa.String(length=32), nullable=False, server_default=''))
    compounds = sa.table('compounds', sa.column('id', sa.Integer), sa.column('committee_code', sa.String))
    connection = op.get_bind()
    for (compound_id,) in connection.execute(sa.select(compounds.c.id)).all():
        code = "".join(secrets.choice(ALPHABET) for _ in range(12))
        connection.execute(compounds.update().where(compounds.c.id == compound_id).values(committee_code=code))
    op.add_column('committee_reports', sa.Column('withdrawn_at', sa.DateTime(), nullable=True))
    op.add_column('committee_reports', sa.Column('decision', sa.String(length=20), nullable=True))
    op.add_column('committee_reports', sa.Column('decision_reason', sa.Text(), nullable=False, server_default=''))
    op.add_column('committee_reports', sa.Column('decided_by', sa.String(length=100), nullable=False, server_default=''))
    op.add_column('committee_reports', sa.Column('decided_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    for column in ('decided_at', 'decided_by', 'decision_reason', 'decision', 'withdrawn_at'):
        op.drop_column('committee_reports', column)  # SQLite 3.35+ drops a column in place
    op.drop_column('compounds', 'committee_code')
