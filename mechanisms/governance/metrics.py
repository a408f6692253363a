"""Outcome metrics of the governance model, as running per-sample values over the proposals so far.

Each proposal adds to a counter (``COUNTERS``, state variables of shape ``(B,)``); the metrics
are ratios of counters, so the value at the last timestep is the rate over the whole run
(``summary="last"``). Conventions for empty denominators: rates over proposals are 0 before the
first proposal; ``whale_veto_rate`` is 0 while no proposal has been contested (the whales opposing
the community when, without the whales' votes, the community would have got its way), and always with no whales; ``attacker_cost_to_flip`` is NaN until the attacker has flipped an
outcome (a run in which it never flips has no cost to report, and summaries skip it).
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from tokensim.mechanisms.core import Metric
# the helpers behind core.stats.gini_nakamoto, so that one sort also gives the top-10 share
from tokensim.mechanisms.core.stats import _gini_ascending

COUNTERS = (
    "proposals", "captured", "captured_clean", "captured_whales", "captured_headcount", "whale_contested", "whale_vetoed", "attacker_flips",
    "outlay", "identity_spend", "fake_votes", "borrowed_sum", "capital_cost", "passed", "turnout_sum", "gini_sum", "nakamoto_sum", "top10_sum", "tokens_cast_sum", "welfare_loss_sum",
    "identities_sum", "sybil_gain_sum",
)

METRICS = (
    Metric("capture_rate", "share of proposals whose outcome differs from the community's utility-weighted "
           "preference", "share", better="lower", bounds=(0.0, 1.0)),
    Metric("excess_capture_rate", "capture_rate minus the capture of the same rule on the same draws with no "
           "adversary (whales voting with the community, no attacker): the capture the adversaries cause",
           "share", better="lower", bounds=(-1.0, 1.0)),
    Metric("whale_capture_rate", "the whale channel of excess capture: capture with the whales as drawn and no "
           "attacker, minus the no-adversary baseline", "share", better="lower", bounds=(-1.0, 1.0)),
    Metric("sybil_capture_rate", "the Sybil channel of excess capture: capture with the attacker, minus capture "
           "with the whales as drawn and no attacker", "share", better="lower", bounds=(-1.0, 1.0)),
    Metric("baseline_capture_rate", "capture of the rule itself: share of proposals decided against the "
           "community's utility-weighted preference with no adversary (same draws)", "share", better="lower",
           bounds=(0.0, 1.0)),
    Metric("capture_rate_headcount", "share of proposals whose outcome differs from the community's head-count "
           "majority", "share", better="lower", bounds=(0.0, 1.0)),
    Metric("whale_veto_rate", "share of contested proposals (whales oppose the community, which would have got "
           "its preferred outcome without the whales' votes) in which the whales overturned it", "share", better="lower", bounds=(0.0, 1.0)),
    Metric("attacker_cost_to_flip", "attacker's total outlay so far (identity purchases, slashed tokens, loan "
           "fees, capital cost) per outcome it flipped; NaN until its first flip", "tokens", better="higher"),
    Metric("attacker_outlay", "attacker's total outlay so far: identity purchases (each once), slashed tokens, "
           "loan fees, and its capital's opportunity cost and price impact", "tokens", better="higher"),
    Metric("cost_per_fake_vote", "identity purchases per vote cast by a fake identity (the per-effective-voter "
           "cost of a persistent identity); NaN until a fake has voted", "tokens", better="higher"),
    Metric("identity_stock", "verified fake identities the attacker holds after this proposal", "identities"),
    Metric("borrowed", "mean tokens borrowed per proposal for the vote (flash loans, token rules)", "tokens"),
    Metric("loan_fees", "tokens paid to lenders in loan fees so far", "tokens"),
    Metric("attacker_flip_rate", "share of proposals whose outcome the attacker's votes (identities and borrowed tokens) flipped", "share",
           better="lower", bounds=(0.0, 1.0)),
    Metric("turnout", "mean share of community wallets whose tokens were voted (directly or by a delegate)",
           "share", better="higher", bounds=(0.0, 1.0)),
    Metric("gini_voting_power", "mean Gini of the voting power cast per entity (abstainers count as 0; the "
           "attacker's identities are one entity)", "", better="lower", bounds=(0.0, 1.0)),
    Metric("nakamoto_coefficient", "mean smallest number of entities casting over half of the voting power",
           "entities", better="higher"),
    Metric("top10_share_cast", "mean share of the voting power cast that the 10 largest casting entities cast "
           "(compare Messias et al. 2023: 57.86% Compound, 44.72% Uniswap)", "share", bounds=(0.0, 1.0)),
    Metric("tokens_cast_share", "mean share of the token supply voted per proposal (including borrowed tokens; "
           "compare Falk et al. 2024: about 5%)", "share of supply"),
    Metric("welfare_loss", "mean community utility lost per proposal per community member, against the "
           "utility-weighted optimum", "utility/person", better="lower"),
    Metric("pass_rate", "share of proposals that passed", "share", bounds=(0.0, 1.0)),
    Metric("sybil_identities", "mean number of identities the attacker split its tokens over (its own, the stock held and new ones)", "identities"),
    Metric("sybil_gain", "mean expected gain of the attacker's best split over not splitting, per proposal",
           "tokens"),
    Metric("supply", "tokens held by holders and the attacker (not burned)", "tokens"),
    Metric("burned", "tokens slashed from detected fake identities so far", "tokens"),
)


def _per(numerator: np.ndarray, denominator: np.ndarray, empty: float = 0.0) -> np.ndarray:
    safe = np.where(denominator > 0, denominator, 1.0)
    return np.where(denominator > 0, numerator / safe, empty)


RATES = {
    "capture_rate": lambda s: _per(s["captured"], s["proposals"]),
    "excess_capture_rate": lambda s: _per(s["captured"] - s["captured_clean"], s["proposals"]),
    "whale_capture_rate": lambda s: _per(s["captured_whales"] - s["captured_clean"], s["proposals"]),
    "sybil_capture_rate": lambda s: _per(s["captured"] - s["captured_whales"], s["proposals"]),
    "baseline_capture_rate": lambda s: _per(s["captured_clean"], s["proposals"]),
    "capture_rate_headcount": lambda s: _per(s["captured_headcount"], s["proposals"]),
    "whale_veto_rate": lambda s: _per(s["whale_vetoed"], s["whale_contested"]),
    "attacker_cost_to_flip": lambda s: _per(s["outlay"], s["attacker_flips"], np.nan),
    "attacker_outlay": lambda s: s["outlay"],
    "cost_per_fake_vote": lambda s: _per(s["identity_spend"], s["fake_votes"], np.nan),
    "borrowed": lambda s: _per(s["borrowed_sum"], s["proposals"]),
    "attacker_flip_rate": lambda s: _per(s["attacker_flips"], s["proposals"]),
    "turnout": lambda s: _per(s["turnout_sum"], s["proposals"]),
    "gini_voting_power": lambda s: _per(s["gini_sum"], s["proposals"]),
    "nakamoto_coefficient": lambda s: _per(s["nakamoto_sum"], s["proposals"]),
    "top10_share_cast": lambda s: _per(s["top10_sum"], s["proposals"]),
    "tokens_cast_share": lambda s: _per(s["tokens_cast_sum"], s["proposals"]),
    "welfare_loss": lambda s: _per(s["welfare_loss_sum"], s["proposals"]),
    "pass_rate": lambda s: _per(s["passed"], s["proposals"]),
    "sybil_identities": lambda s: _per(s["identities_sum"], s["proposals"]),
    "sybil_gain": lambda s: _per(s["sybil_gain_sum"], s["proposals"]),
    "supply": lambda s: s["balances"].sum(axis=1) + s["attacker_tokens"],
}
"""How each metric follows from the counters and balances of a state (see the module docstring)."""


def cast_power_counters(cast_power: np.ndarray) -> dict[str, np.ndarray]:
    """One proposal's concentration of the power cast per entity (``(B, entities)``, abstainers 0):
    Gini, Nakamoto coefficient and the top-10 entities' share, to add to the counters.

    One sort serves all three, with exactly the numbers of :func:`tokensim.mechanisms.core.stats.gini`,
    :func:`~tokensim.mechanisms.core.stats.nakamoto` and a separate descending sort for the top 10
    (tests/test_governance_model.py checks this).
    """
    ascending = np.sort(cast_power, axis=1)
    descending = ascending[:, ::-1]  # a view: every sum below runs in descending order, as nakamoto's
    top = descending[:, :10].sum(axis=1)
    total = cast_power.sum(axis=1)
    return {
        "gini_sum": _gini_ascending(ascending),
        "nakamoto_sum": nakamoto_descending(descending).astype(float),
        "top10_sum": np.where(total > 0, top / np.where(total > 0, total, 1.0), 0.0),
    }


def nakamoto_descending(descending: np.ndarray, threshold: float = 0.5, first: int = 32) -> np.ndarray:
    """:func:`tokensim.mechanisms.core.stats.nakamoto` of rows already sorted in descending order.

    The running shares only grow, so the count of shares up to ``threshold`` is settled as soon as
    one share exceeds it: the running sum is taken over the first ``first`` columns, and over 4x
    more while some row has not crossed. Each prefix is the same sequential sum as the full
    cumulative sum, so the counts are identical.
    """
    n = descending.shape[-1]
    total = descending.sum(axis=-1, keepdims=True)
    scale = np.where(total > 0, total, 1.0)
    open_rows = total[:, 0] > 0
    width = min(first, n)
    while True:
        shares = np.cumsum(descending[:, :width] / scale, axis=-1)
        if width >= n or not np.any(open_rows & (shares[:, -1] <= threshold)):
            break
        width = min(4 * width, n)
    count = (shares <= threshold).sum(axis=-1) + 1
    return np.where(total[:, 0] > 0, np.minimum(count, n), 0)


def welfare_loss(captured: np.ndarray, utility_total: np.ndarray, n_community: int) -> np.ndarray:
    """One proposal's community utility lost per member: the summed utility forgone where it was captured."""
    return np.where(captured, np.abs(utility_total), 0.0) / n_community


def rates(state: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every metric of ``state``."""
    return {name: rate(state) for name, rate in RATES.items()}
