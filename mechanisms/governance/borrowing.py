"""Vote borrowing: tokens the attacker rents for one vote under token-weighted rules (flash loans).

A lending market (an Aave-style pool, outside the model's holders) lends tokens for the duration
of one vote against a fee of ``borrow_fee`` per token; the principal is returned at once, so the
only token flow is the fee, paid from the attacker's balance to the lenders. This is the route of
the Beanstalk governance attack (April 2022), where a flash loan bought a two-thirds majority for
one block. It only works where power follows current stake with no lock-up or checkpoint before the
vote (``BORROW_RULES``): per-person rules count identities, and conviction voting needs stake held
over days (the trigger is crossed by stake held ``conviction_days``, a one-block loan builds
almost no conviction), so neither is borrowable here.

The attacker borrows the fewest whole tokens that, added to its own vote, flip the outcome
(:func:`tokens_to_borrow`, closed form with ties settled by :func:`~.voting.decide`), when the
loan is available (at most ``borrow_limit`` of the supply), affordable from its balance and worth
more than its fee.
"""
from __future__ import annotations

import numpy as np

from .sybil import identities_needed

BORROW_RULES = ("token", "delegated", "stake_age")


def tokens_to_borrow(passes_with_own, community_pass, vetoed_by_others, tally, supply, rule, power_per_token):
    """Whole tokens to borrow so the attacker's vote flips the outcome (``(B,)``).

    ``tally`` holds yes/no power and tokens cast/against of everyone *including* the attacker's own
    vote, whose outcome is ``passes_with_own``. 0 where its own vote already flips the outcome,
    ``inf`` where no loan can (a veto by others blocks a pass, the threshold cannot be met).
    """
    power = np.asarray(power_per_token, dtype=float)[:, None]
    needed = identities_needed(passes_with_own, community_pass, vetoed_by_others, tally["yes"], tally["no"],
                               tally["cast"], tally["against"], supply, rule, power, np.ones_like(power))
    return np.where(passes_with_own != community_pass, 0.0, needed[:, 0])
