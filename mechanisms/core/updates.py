"""State-update helpers shared by every model.

Most of a batched model's arithmetic lives in its policies; an update then only stores what the
policy computed. :func:`take` is that update, and :func:`updates_for` builds a block's updates from
the names its policy owns, so no model writes this boilerplate twice.
"""
from __future__ import annotations

from typing import Iterable


def take(name: str):
    """A cadCAD state update that sets ``name`` from the block's policy signal.

    A variable the signal does not carry keeps its current value (a policy may leave a variable
    unchanged on some steps, e.g. an emission rule with no memory).
    """

    def update(params, substep, history, state, policy_input, *args):
        return name, policy_input.get(name, state[name])

    update.__name__ = f"s_{name}"
    return update


def updates_for(names: Iterable[str]) -> dict:
    """The state updates of one block: a :func:`take` per variable the block's policy owns."""
    return {name: take(name) for name in names}
