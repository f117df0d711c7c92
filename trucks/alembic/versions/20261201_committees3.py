"""committee webhooks and message deliveries

A compound's group robot (URL, kind, DingTalk secret) and the deliveries of messages to it, one
per (compound, date, version, kind): the unique constraint is the idempotency key.

Revision ID: committees3
Revises: committees2
Create Date: 2026-12-01 22:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'committees3'
down_revision = 'committees2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('compounds', sa.Column('webhook_url', sa.String(length=500), nullable=False, server_default=''))
    op.add_column('compounds', sa.Column('webhook_kind', sa.String(length=10), nullable=False, server_default='json'))
    op.add_column('compounds', sa.Column('webhook_secret', sa.String(length=200), nullable=False, server_default=''))
    op.create_table(
        'message_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('compound_id', sa.Integer(), nullable=False),
        sa.Column('date', sa.Date(), nullable=False),
        sa.Column('retailer_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('start', sa.DateTime(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=True),
        sa.Column('last_answer', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['compound_id'], ['compounds.id'],
                                name=op.f('fk_message_deliveries_compound_id_compounds')),
        sa.ForeignKeyConstraint(['retailer_id'], ['retailers.id'],
                                name=op.f('fk_message_deliveries_retailer_id_retailers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_message_deliveries')),
        sa.UniqueConstraint('compound_id', 'date', 'version', 'kind', name=op.f('uq_message_deliveries_compound_id')),
    )
    op.create_index(op.f('ix_message_deliveries_compound_id'), 'message_deliveries', ['compound_id'], unique=False)


def downgrade() -> None:
    op.drop_table('message_deliveries')
    for column in ('webhook_secret', 'webhook_kind', 'webhook_url'):
        op.drop_column('compounds', column)
