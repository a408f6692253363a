"""cadCAD state updates of the inflation model.

Each block's policy computes the new values of the variables it owns; the update for a variable
copies its new value from the policy signal (or keeps the old array when the active emission
policy has no such memory). No update modifies an array in place.
"""
from __future__ import annotations


def take(name: str):
    """A state update that sets ``name`` from the block's policy signal, if present."""

    def update(params, substep, history, state, policy_input, *args):
        return name, policy_input.get(name, state[name])

    update.__name__ = f"s_{name}"
    return update


def updates_for(names) -> dict:
    """The state updates of one block: a :func:`take` per variable the block's policy owns."""
    return {name: take(name) for name in names}
