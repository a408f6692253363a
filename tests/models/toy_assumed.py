"""The toy emission model with its parameters marked, for testing the claims engine's robustness.

Same dynamics as :mod:`tests.models.toy` (registered as ``toy_assumed``), but ``burn_rate`` and
``noise`` are assumed parameters with plausible ranges. Agents' supply follows
``S_{t+1} = S_t (1 - burn_rate) + emission`` exactly (the score noise only moves tokens between
agents), so a claim about the final supply flips at a burn rate known in closed form
(:func:`supply_after`), while ``noise`` cannot change it.
"""
from __future__ import annotations

from dataclasses import replace

from tokensim.mechanisms.core import Param, Schema, register

from . import toy

SCHEMA = Schema(
    (
        Param("n_agents", 200, "number of agents", kind="int", low=1, high=100_000, structural=True, basis="setting"),
        Param("emission", 100.0, "tokens minted per step", low=0.0, high=1e9, unit="tokens/step", basis="setting"),
        Param("burn_rate", 0.02, "share of each balance burned per step", low=0.0, high=1.0, plausible=(0.01, 0.06)),
        Param("noise", 1.0, "standard deviation of the score noise", low=0.0, high=10.0, plausible=(0.5, 2.0)),
    )
)

MODEL = register(replace(toy.MODEL, name="toy_assumed", title="Toy emission model with assumed parameters",
                         schema=SCHEMA))


def supply_after(steps: int, burn_rate: float, emission: float, initial: float) -> float:
    """Agents' supply after ``steps`` steps from ``initial`` (closed form of the recursion)."""
    keep = (1.0 - burn_rate) ** steps
    return initial * keep + emission * (1.0 - keep) / burn_rate
