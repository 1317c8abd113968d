"""settlement: revisions and figures, judged lines, versioned fees, parameters, rule amounts
and tier scopes (seeded with the SPEC defaults), travel outside the home city on records

Revision ID: 0011_settlement
Revises: 0009_spares_stock
Create Date: 2026-11-24 01:00:00

"""
import datetime as dt
from decimal import Decimal

from alembic import op
import sqlalchemy as sa

import portal.core.db
import portal.core.money  # noqa: F401


revision = '0011_settlement'
down_revision = '0009_spares_stock'
branch_labels = None
depends_on = None

EPOCH = dt.date(2000, 1, 1)
FEES = {
    "onsite_repair": {"service_station": "30.00", "service_center": "33.00"},
    "instore_simple": {"service_station": "20.00", "service_center": "22.00"},
    "complex": {"service_center": "45.00"},
    "unit_swap": {"service_station": "15.00", "service_center": "16.50"},
    "factory_return": {"service_station": "10.00", "service_center": "11.00"},
    "no_fault_found": {"service_station": "8.00", "service_center": "8.80"},
    "accessory_sale": {"service_station": "0.00", "service_center": "0.00"},
}
SCOPE = {
    "accessory_point": {"accessory_sale"},
    "service_station": set(FEES) - {"complex"},
    "service_center": set(FEES),
}
RULE_AMOUNTS = {
    "late_report": "-20.00",
    "missing_report": "-50.00",
    "overdue_rectification": "-100.00",
    "critical_item_failed": "-500.00",
    "verified_complaint": "-200.00",
    "assessment_grade_a": "300.00",
    "high_satisfaction": "200.00",
}
Money = portal.core.money.Money(precision=12, scale=2)


def _audit_columns():
    return [
        sa.Column('note', sa.Text(), nullable=False, server_default=''),
        sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
    ]


def upgrade():
    with op.batch_alter_table('repair_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outside_home_city', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('settlements', schema=None) as batch_op:
        batch_op.drop_constraint('uq_settlements_station_id', type_='unique')
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('superseded_at', portal.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('superseded_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('valid_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('invalid_count', sa.Integer(), server_default='0', nullable=False))
        for name in ('labour', 'travel', 'rewards', 'penalties', 'deductions', 'carried_in', 'carried_out', 'net'):
            batch_op.add_column(sa.Column(name, Money, server_default='0', nullable=False))
        batch_op.add_column(sa.Column('rule_versions', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('computed_at', portal.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('computed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('run_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('dispute_reason', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('answer', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('hq_approved_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('hq_approved_at', portal.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('finance_approved_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('finance_approved_at', portal.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('paid_reference', sa.String(length=100), server_default='', nullable=False))
        batch_op.add_column(sa.Column('paid_on', sa.Date(), nullable=True))
        batch_op.create_unique_constraint('uq_settlements_revision', ['station_id', 'month', 'revision'])
        batch_op.create_foreign_key(batch_op.f('fk_settlements_superseded_by_id_settlements'), 'settlements', ['superseded_by_id'], ['id'], ondelete='SET NULL')
        for column in ('computed_by_id', 'run_by_id', 'hq_approved_by_id', 'finance_approved_by_id'):
            batch_op.create_foreign_key(batch_op.f(f'fk_settlements_{column}_users'), 'users', [column], ['id'], ondelete='SET NULL')
        batch_op.create_index('ix_settlements_month_status', ['month', 'status'], unique=False)
        batch_op.create_index('uq_settlements_current', ['station_id', 'month'], unique=True, sqlite_where=sa.text('superseded_at IS NULL'), postgresql_where=sa.text('superseded_at IS NULL'))

    op.create_table('settlement_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('settlement_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('ticket_no', sa.String(length=40), nullable=False),
    sa.Column('received_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', portal.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('serial_no', sa.String(length=40), server_default='', nullable=False),
    sa.Column('device_model', sa.String(length=40), server_default='', nullable=False),
    sa.Column('repair_type', sa.String(length=30), nullable=False),
    sa.Column('tier', sa.String(length=30), server_default='', nullable=False),
    sa.Column('warranty', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('valid', sa.Boolean(), nullable=False),
    sa.Column('reason_code', sa.String(length=30), nullable=True),
    sa.Column('fee', Money, nullable=False),
    sa.Column('travel', Money, nullable=False),
    sa.ForeignKeyConstraint(['record_id'], ['repair_records.id'], name=op.f('fk_settlement_lines_record_id_repair_records'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['settlement_id'], ['settlements.id'], name=op.f('fk_settlement_lines_settlement_id_settlements'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settlement_lines'))
    )
    with op.batch_alter_table('settlement_lines', schema=None) as batch_op:
        batch_op.create_index('ix_settlement_lines_settlement_id_valid', ['settlement_id', 'valid', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_settlement_lines_record_id'), ['record_id'], unique=False)

    fee_schedules = op.create_table('fee_schedules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('travel_allowance', Money, nullable=False),
    *_audit_columns(),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fee_schedules')),
    sa.UniqueConstraint('effective_on', name=op.f('uq_fee_schedules_effective_on'))
    )
    fee_rates = op.create_table('fee_rates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=False),
    sa.Column('tier', sa.String(length=30), nullable=False),
    sa.Column('repair_type', sa.String(length=30), nullable=False),
    sa.Column('fee', Money, nullable=False),
    sa.ForeignKeyConstraint(['schedule_id'], ['fee_schedules.id'], name=op.f('fk_fee_rates_schedule_id_fee_schedules'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fee_rates')),
    sa.UniqueConstraint('schedule_id', 'tier', 'repair_type', name=op.f('uq_fee_rates_schedule_id'))
    )
    parameters = op.create_table('validity_parameters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('repeat_window_days', sa.Integer(), nullable=False),
    sa.Column('default_warranty_months', sa.Integer(), nullable=False),
    *_audit_columns(),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_validity_parameters')),
    sa.UniqueConstraint('effective_on', name=op.f('uq_validity_parameters_effective_on'))
    )
    amounts = op.create_table('adjustment_rule_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule_code', sa.String(length=40), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('amount', Money, nullable=False),
    *_audit_columns(),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_adjustment_rule_versions')),
    sa.UniqueConstraint('rule_code', 'effective_on', name=op.f('uq_adjustment_rule_versions_rule_code'))
    )
    scopes = op.create_table('tier_repair_scopes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tier', sa.String(length=30), nullable=False),
    sa.Column('repair_type', sa.String(length=30), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('allowed', sa.Boolean(), nullable=False),
    sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tier_repair_scopes')),
    sa.UniqueConstraint('tier', 'repair_type', 'effective_on', name=op.f('uq_tier_repair_scopes_tier'))
    )

    now = dt.datetime.now(dt.UTC)
    op.bulk_insert(fee_schedules, [{'id': 1, 'effective_on': EPOCH, 'travel_allowance': Decimal('10.00'), 'note': 'SPEC 8.1', 'created_at': now}])
    op.bulk_insert(fee_rates, [
        {'schedule_id': 1, 'tier': tier, 'repair_type': code, 'fee': Decimal(fee)}
        for code, by_tier in FEES.items() for tier, fee in by_tier.items()
    ])
    op.bulk_insert(parameters, [{'effective_on': EPOCH, 'repeat_window_days': 30, 'default_warranty_months': 12, 'note': 'SPEC 8.2', 'created_at': now}])
    op.bulk_insert(amounts, [
        {'rule_code': code, 'effective_on': EPOCH, 'amount': Decimal(amount), 'note': 'SPEC 6', 'created_at': now}
        for code, amount in RULE_AMOUNTS.items()
    ])
    op.bulk_insert(scopes, [
        {'tier': tier, 'repair_type': code, 'effective_on': EPOCH, 'allowed': code in allowed, 'created_at': now}
        for tier, allowed in SCOPE.items() for code in FEES
    ])
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("SELECT setval('fee_schedules_id_seq', (SELECT max(id) FROM fee_schedules))")


def downgrade():
    op.drop_table('tier_repair_scopes')
    op.drop_table('adjustment_rule_versions')
    op.drop_table('validity_parameters')
    op.drop_table('fee_rates')
    op.drop_table('fee_schedules')
    with op.batch_alter_table('settlement_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_settlement_lines_record_id'))
        batch_op.drop_index('ix_settlement_lines_settlement_id_valid')
    op.drop_table('settlement_lines')
    with op.batch_alter_table('settlements', schema=None) as batch_op:
        batch_op.drop_index('uq_settlements_current')
        batch_op.drop_index('ix_settlements_month_status')
        for column in ('computed_by_id', 'run_by_id', 'hq_approved_by_id', 'finance_approved_by_id'):
            batch_op.drop_constraint(batch_op.f(f'fk_settlements_{column}_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_settlements_superseded_by_id_settlements'), type_='foreignkey')
        batch_op.drop_constraint('uq_settlements_revision', type_='unique')
        for name in ('paid_on', 'paid_reference', 'finance_approved_at', 'finance_approved_by_id',
                     'hq_approved_at', 'hq_approved_by_id', 'answer', 'dispute_reason', 'run_by_id',
                     'computed_by_id', 'computed_at', 'rule_versions', 'net', 'carried_out',
                     'carried_in', 'deductions', 'penalties', 'rewards', 'travel', 'labour',
                     'invalid_count', 'valid_count', 'superseded_by_id', 'superseded_at', 'revision'):
            batch_op.drop_column(name)
        batch_op.create_unique_constraint('uq_settlements_station_id', ['station_id', 'month'])
    with op.batch_alter_table('repair_records', schema=None) as batch_op:
        batch_op.drop_column('outside_home_city')
