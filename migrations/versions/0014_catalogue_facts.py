"""catalogue facts: device models' serial patterns and warranties, fault categories, versioned

Revision ID: 0014_catalogue_facts
Revises: 0013_record_facts
Create Date: 2026-11-24 01:30:00

"""
from alembic import op
import sqlalchemy as sa

import portal.core.db


revision = '0014_catalogue_facts'
down_revision = '0013_record_facts'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('device_model_facts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_code', sa.String(length=40), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('serial_pattern', sa.String(length=200), nullable=False),
    sa.Column('warranty_months', sa.Integer(), nullable=False),
    sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['model_code'], ['device_models.code'], name=op.f('fk_device_model_facts_model_code_device_models'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device_model_facts')),
    sa.UniqueConstraint('model_code', 'effective_on', name=op.f('uq_device_model_facts_model_code'))
    )
    op.create_table('fault_category_facts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fault_code', sa.String(length=20), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['fault_code'], ['fault_codes.code'], name=op.f('fk_fault_category_facts_fault_code_fault_codes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fault_category_facts')),
    sa.UniqueConstraint('fault_code', 'effective_on', name=op.f('uq_fault_category_facts_fault_code'))
    )


def downgrade():
    op.drop_table('fault_category_facts')
    op.drop_table('device_model_facts')
