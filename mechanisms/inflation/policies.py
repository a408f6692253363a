"""cadCAD policies of the inflation model: thin wrappers that draw the day's randomness from the
batch's generators (buffered streams, :meth:`~tokensim.mechanisms.core.seeding.BatchRNG.stream`) and call the pure step functions (:mod:`.controllers`, :mod:`.economy`,
:mod:`.metrics`); the tuner (:mod:`.tuning`) runs these same blocks with ``tokensim.mechanisms.core.step``."""
from __future__ import annotations

from .controllers import controller_noise, controller_step
from .economy import economy_step
from .metrics import metrics_step


def p_emission_policy(params, substep, history, state, *args):
    """Block 1: the emission policy sets today's rate (team and governance draw their noise)."""
    return controller_step(params, state, controller_noise(params, params["rng"]))


def p_economy(params, substep, history, state, *args):
    """Block 2: one day of usage, emission, staking, treasury, burn and price formation."""
    return economy_step(params, state, params["rng"].stream("standard_normal", 2))


def p_metrics(params, substep, history, state, *args):
    """Block 3: running outcome metrics."""
    return metrics_step(params, state)
