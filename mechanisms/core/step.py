"""One timestep of a model outside cadCAD, with cadCAD's semantics.

cadCAD runs each partial state update block in order: every policy sees the same state, their
outputs are added up key by key into one signal, then every state update sees that state and
signal, and the block's updates are applied together. :func:`step` does exactly that on plain
arrays, so code that needs many short rollouts (the benchmark's numpy floor, a controller's
training) runs the very functions cadCAD runs, in the same order, without a second copy of the
model's wiring.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence


def step(blocks: Sequence[Mapping[str, Any]], params: Mapping[str, Any], state: Mapping[str, Any],
         timestep: int) -> dict[str, Any]:
    """The state after one timestep of ``blocks`` (cadCAD PSUBs) starting from ``state``."""
    state = dict(state)
    for substep, block in enumerate(blocks, start=1):
        signal: dict[str, Any] = {}
        for policy in (block.get("policies") or {}).values():
            for key, value in policy(params, substep, [], state).items():
                signal[key] = signal[key] + value if key in signal else value
        updates = dict(f(params, substep, [], state, signal) for f in block["variables"].values())
        state = {**state, **updates, "substep": substep, "timestep": timestep}
    return state
