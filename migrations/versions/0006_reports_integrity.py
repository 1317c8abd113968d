"""reports integrity: mask customer names and phones kept in earlier upload errors

Revision ID: 0006_reports_integrity
Revises: 0005_money_idempotency
Create Date: 2026-11-23 22:00:00

Rejected uploads kept each bad cell's value whole, personal ones too. The portal now keeps them
masked (and masks them again when shown); this rewrites the rows kept before.
"""
import json

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006_reports_integrity'
down_revision = '0005_money_idempotency'
branch_labels = None
depends_on = None


def _text(value):
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _mask_phone(value):
    digits = _text(value)
    if len(digits) <= 7:
        return digits[:1] + "*" * (len(digits) - 1)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def _mask_name(value):
    name = _text(value)
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""


# A copy as of this revision (migrations do not import the app's code, which moves on).
MASKS = {"customer_phone": _mask_phone, "customer_name": _mask_name}


def _masked(problems):
    if not problems:
        return problems, False
    changed = False
    out = []
    for problem in problems:
        mask = MASKS.get(problem.get("field"))
        value = problem.get("value")
        if mask is not None and value not in (None, ""):
            masked = mask(value)
            if masked != value:
                problem = {**problem, "value": masked}
                changed = True
        out.append(problem)
    return out, changed


def upgrade():
    uploads = sa.table(
        "report_uploads",
        sa.column("id", sa.Integer),
        sa.column("errors", sa.JSON),
        sa.column("warnings", sa.JSON),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(uploads.c.id, uploads.c.errors, uploads.c.warnings).where(
            sa.or_(uploads.c.errors.is_not(None), uploads.c.warnings.is_not(None))
        )
    ).all()
    for upload_id, errors, warnings in rows:
        if isinstance(errors, str):
            errors = json.loads(errors)
        if isinstance(warnings, str):
            warnings = json.loads(warnings)
        errors, errors_changed = _masked(errors)
        warnings, warnings_changed = _masked(warnings)
        if errors_changed or warnings_changed:
            connection.execute(
                uploads.update()
                .where(uploads.c.id == upload_id)
                .values(errors=errors, warnings=warnings)
            )


def downgrade():
    # The whole values are gone on purpose; nothing to restore.
    pass
