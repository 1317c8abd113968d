"""Masking of personal data for lists, exports, API answers, upload errors and the audit trail."""

from __future__ import annotations


def mask_phone(phone: str | None) -> str:
    """A phone number with its middle hidden: 13812345678 -> 138****5678."""
    if not phone:
        return ""
    digits = str(phone).strip()
    if len(digits) <= 7:
        return digits[:1] + "*" * (len(digits) - 1)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_name(name: str | None) -> str:
    """A person's name with all but the first character hidden."""
    if not name:
        return ""
    name = str(name)
    return name[:1] + "*" * max(1, len(name) - 1)
