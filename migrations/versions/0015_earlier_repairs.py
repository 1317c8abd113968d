"""earlier repairs imported from before the portal (repeat and duplicate-ticket rules)

Revision ID: 0015_earlier_repairs
Revises: 0014_catalogue_facts
Create Date: 2026-11-24 01:40:00

"""
from alembic import op
import sqlalchemy as sa

import portal.core.db


revision = '0015_earlier_repairs'
down_revision = '0014_catalogue_facts'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('earlier_repair_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('added_count', sa.Integer(), nullable=False),
    sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by_name', sa.String(length=80), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_earlier_repair_imports'))
    )
    op.create_table('earlier_repairs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('ticket_no', sa.String(length=40), nullable=False),
    sa.Column('serial_no', sa.String(length=40), nullable=False),
    sa.Column('device_model', sa.String(length=40), nullable=False),
    sa.Column('fault_code', sa.String(length=20), nullable=False),
    sa.Column('completed_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('result', sa.String(length=30), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['earlier_repair_imports.id'], name=op.f('fk_earlier_repairs_import_id_earlier_repair_imports'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_earlier_repairs_station_id_stations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_earlier_repairs')),
    sa.UniqueConstraint('station_id', 'ticket_no', name=op.f('uq_earlier_repairs_station_id'))
    )
    with op.batch_alter_table('earlier_repairs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_earlier_repairs_completed_at'), ['completed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_earlier_repairs_serial_no'), ['serial_no'], unique=False)


def downgrade():
    op.drop_table('earlier_repairs')
    op.drop_table('earlier_repair_imports')
