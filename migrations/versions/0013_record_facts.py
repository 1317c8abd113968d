"""record facts: serial numbers stored normalized (SPEC 5), standby serials indexed

Revision ID: 0013_record_facts
Revises: 0012_jobs_exports
Create Date: 2026-11-24 01:20:00

"""
import re
import unicodedata

from alembic import op
import sqlalchemy as sa


revision = '0013_record_facts'
down_revision = '0012_jobs_exports'
branch_labels = None
depends_on = None

SPACES = re.compile(r"\s+")


def _normalize(value):
    return SPACES.sub("", unicodedata.normalize("NFKC", value or "")).upper()


def _normalize_column(table, column):
    bind = op.get_bind()
    rows = bind.execute(sa.text(f"SELECT id, {column} FROM {table}")).all()
    changed = [
        {"id": row_id, "value": _normalize(value)}
        for row_id, value in rows
        if value and _normalize(value) != value
    ]
    if changed:
        bind.execute(sa.text(f"UPDATE {table} SET {column} = :value WHERE id = :id"), changed)


def upgrade():
    _normalize_column("repair_records", "serial_no")
    _normalize_column("repair_records", "standby_serial")
    _normalize_column("repair_parts", "faulty_serial")
    with op.batch_alter_table('repair_records', schema=None) as batch_op:
        batch_op.create_index('ix_repair_records_standby_serial', ['standby_serial'], unique=False)


def downgrade():
    with op.batch_alter_table('repair_records', schema=None) as batch_op:
        batch_op.drop_index('ix_repair_records_standby_serial')
