"""Transition tables for workflows: one dict per workflow, checked in one place."""

from __future__ import annotations

import enum
from collections.abc import Mapping

from flask_babel import lazy_gettext as _l

from portal.core.errors import InvalidTransition


class LabelledEnum(enum.StrEnum):
    """A string enum whose members carry a translatable label."""

    def __new__(cls, value: str, label=None):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label if label is not None else value
        return member

    def __str__(self) -> str:
        return self.value

    @classmethod
    def choices(cls) -> list[tuple[str, object]]:
        """(value, label) pairs for a select field."""
        return [(m.value, m.label) for m in cls]


class TransitionTable:
    """Legal moves of one workflow: {(from_state, action): to_state}."""

    def __init__(self, name: str, moves: Mapping[tuple[enum.Enum, str], enum.Enum]):
        self.name = name
        self.moves = dict(moves)

    def actions_from(self, state: enum.Enum) -> list[str]:
        """The actions allowed in a state."""
        return [action for (src, action) in self.moves if src == state]

    def can(self, state: enum.Enum, action: str) -> bool:
        return (state, action) in self.moves

    def target(self, state: enum.Enum, action: str) -> enum.Enum:
        """The state an action leads to, or InvalidTransition naming state and action."""
        try:
            return self.moves[(state, action)]
        except KeyError:
            label = getattr(state, "label", state)
            raise InvalidTransition(
                _l(
                    "%(action)s is not allowed while the %(name)s is %(state)s.",
                    action=action,
                    name=self.name,
                    state=label,
                )
            ) from None
