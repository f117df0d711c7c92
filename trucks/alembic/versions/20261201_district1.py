"""district assignments

Which retailer supplies each compound on a date, as proposed by the assignment LP, pinned and
confirmed by the district's coordinator.

Revision ID: district1
Revises: committees3
Create Date: 2026-12-01 21:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'district1'
down_revision = 'committees3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'district_assignments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('date', sa.Date(), nullable=False),
        sa.Column('compound_id', sa.Integer(), nullable=False),
        sa.Column('retailer_id', sa.Integer(), nullable=False),
        sa.Column('pinned', sa.Boolean(), nullable=False),
        sa.Column('proposed_at', sa.DateTime(), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(), nullable=True),
        sa.Column('confirmed_by', sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(['compound_id'], ['compounds.id'],
                                name=op.f('fk_district_assignments_compound_id_compounds')),
        sa.ForeignKeyConstraint(['retailer_id'], ['retailers.id'],
                                name=op.f('fk_district_assignments_retailer_id_retailers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_district_assignments')),
        sa.UniqueConstraint('date', 'compound_id', name=op.f('uq_district_assignments_date')),
    )
    op.create_index(op.f('ix_district_assignments_date'), 'district_assignments', ['date'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_district_assignments_date'), table_name='district_assignments')
    op.drop_table('district_assignments')
