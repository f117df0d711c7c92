"""page generations per compound

The one global page generation becomes one per compound: a publication re-renders only the pages
of the compounds it may change, and writers of different compounds' facts no longer wait for
each other on one row. A compound without a row is at generation 0.

Revision ID: cache1
Revises: access1
Create Date: 2026-12-02 01:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'cache1'
down_revision = 'access1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table('page_generations')
    op.create_table(
        'page_generations',
        sa.Column('compound_id', sa.Integer(), nullable=False),
        sa.Column('generation', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['compound_id'], ['compounds.id'], name=op.f('fk_page_generations_compound_id_compounds'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('compound_id', name=op.f('pk_page_generations')),
    )


def downgrade() -> None:
    op.drop_table('page_generations')
    table = op.create_table(
        'page_generations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('generation', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_page_generations')),
    )
    op.bulk_insert(table, [{'id': 1, 'generation': 0}])
