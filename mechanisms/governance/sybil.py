"""The Sybil attacker's best response: which identities to buy, and how to split its tokens over them.

The attacker is one real person holding ``n`` tokens plus a persistent stock ``s`` of fake
identities that have already passed proof of personhood (bought once, reused on every later
proposal). Before each proposal some of the stock is detected and removed (each identity with
probability ``identity_detection``). It may then buy ``m`` new identities from one of two
sources of the identity market: fabricated fakes (price ``identity_cost``, passing the check with
probability ``personhood_pass``) or real people's identities bought from their owners (price
``market_identity_cost``, passing with ``market_pass``, near certainty). Under token rules no
identity is checked (pass probability 1) and splitting adds nothing.

Its tokens are split evenly over ``k = 1 + s + m`` identities; new identities that fail the check
are removed before the vote and, with ``slash_detected``, their tokens are burned. Seeing everyone
else's tally (a worst case), it evaluates a geometric grid of ``m`` at once: identities needed to
flip the outcome (closed form, ties settled with :func:`~.voting.decide`), the probability that
enough new identities pass (``scipy.stats.binom``), and the expected net gain ``value *
P(flip) - m * price / uses - E[slashed tokens]``, where ``uses`` is how many proposals a bought
identity is expected to serve within the attacker's horizon (it survives detection with
``1 - identity_detection`` per proposal). It plays the best ``(source, m)`` (the smallest ``m``
on ties, so with nothing to gain it buys nothing). Its realised outlay counts each identity's
full price once, when bought.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.stats import binom

from .voting import PERSONHOOD_RULES, decide

GRID_POINTS = 48


def purchase_grid(max_identities: int, points: int = GRID_POINTS) -> np.ndarray:
    """New identities the attacker considers buying: 0 and a geometric grid up to ``max_identities - 1``.

    Cached per ``(max_identities, points)`` (a structural parameter, so one value per batch); the
    array returned is read-only.
    """
    return _grid(int(max_identities), int(points))


@lru_cache(maxsize=64)
def _grid(max_identities: int, points: int) -> np.ndarray:
    if max_identities <= 1:
        grid = np.zeros(1, dtype=np.int64)
    else:
        steps = np.round(np.geomspace(1, max_identities - 1, points - 1)).astype(np.int64)
        grid = np.unique(np.concatenate([[0], steps]))
    grid.setflags(write=False)
    return grid


def pass_at_least(needed, bought, q) -> np.ndarray:
    """``P(Bin(bought, q) >= needed)`` (1 where ``needed <= 0``, 0 where ``needed > bought``)."""
    needed = np.asarray(needed, dtype=float)
    finite = np.isfinite(needed)
    if np.all(np.asarray(q) == 1.0):
        # every identity passes: the tail is 1 up to ``bought`` and 0 beyond, which is exactly what
        # binom.sf returns for p = 1 (checked for every count of the grids in tests/test_governance_voting.py)
        return np.where(finite & (needed <= bought), 1.0, 0.0)
    tail = binom.sf(np.where(finite, needed, 0.0) - 1.0, bought, q)
    return np.where(finite, tail, 0.0)


def realised_passes(u, bought, q) -> np.ndarray:
    """New identities that pass, by inverse CDF from one uniform ``u`` per sample.

    ``passes = #{r >= 1 : u < P(Bin(bought, q) >= r)}``; one uniform per sample keeps the random
    streams aligned whatever the attacker buys.
    """
    bought, q = np.asarray(bought, dtype=float), np.asarray(q, dtype=float)
    uncertain = (q > 0.0) & (q < 1.0) & (bought > 0)
    if not np.any(uncertain):
        # nothing to draw: no identity at stake, or all pass, or none does (binom.ppf gives 0 for
        # bought = 0 at every u in [0, 1), so skipping it changes no number)
        return np.where(q <= 0.0, 0.0, np.where(q >= 1.0, bought, np.zeros(np.broadcast(bought, q).shape)))
    passes = np.clip(binom.ppf(1.0 - np.asarray(u, dtype=float), bought, q), 0.0, bought)
    return np.where(q <= 0.0, 0.0, np.where(q >= 1.0, bought, passes))


def expected_uses(detection, left) -> np.ndarray:
    """Proposals an identity bought now is expected to serve: ``sum_{t < left} (1 - d)**t``."""
    detection, left = np.asarray(detection, dtype=float), np.maximum(np.asarray(left, dtype=float), 1.0)
    safe = np.where(detection > 0, detection, 1.0)
    with np.errstate(divide="ignore"):
        uses = -np.expm1(left * np.log1p(-safe)) / safe  # (1 - (1 - d)**left) / d without cancellation
    return np.where(detection > 0, np.clip(uses, 1.0, left), left)


def identities_needed(base_pass, community_pass, vetoed_by_others, yes, no, tokens_cast, tokens_against,
                      supply, params, power_each, tokens_each, weights=None) -> np.ndarray:
    """Voting identities the attacker needs to flip the outcome, per sample and grid column.

    The attacker votes against ``community_pass`` with ``power_each`` and ``tokens_each`` per
    identity (``(B, G)``). Returns a float ``(B, G)`` array, ``inf`` where no number of
    identities flips it (the outcome already goes against the community, a veto by others blocks
    a pass, the pass threshold cannot be met, or the attacker has no power). Others' tallies are
    ``(B,)`` arrays; ``params`` holds the thresholds in force. ``weights(n)`` gives the power and
    tokens of ``n`` identities as the realised vote counts them (default ``n * power_each, n *
    tokens_each``; see :func:`split_weights`).
    """
    p = np.asarray(params["pass_threshold"], dtype=float)[:, None]
    def col(a):
        return np.asarray(a, dtype=float)[:, None]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # community wants a pass: voting no flips it once A >= Y/p - Y - N (majority) or once the
        # attacker's no-tokens push the tokens against above the veto line
        by_majority = np.ceil((col(yes) * (1.0 - p) / p - col(no)) / power_each)
        by_veto = np.floor((col(params["veto_threshold"] * supply) - col(tokens_against)) / tokens_each) + 1.0
        to_fail = np.minimum(_finite_or_inf(by_majority, power_each), _finite_or_inf(by_veto, tokens_each))
        # community wants a fail: voting yes flips it once A > pN/(1-p) - Y and the quorum is met
        by_majority_yes = np.floor((col(no) * p / (1.0 - p) - col(yes)) / power_each) + 1.0
        by_quorum = np.ceil((col(params["quorum"] * supply) - col(tokens_cast)) / tokens_each)
        to_pass = np.maximum(_finite_or_inf(by_majority_yes, power_each), _finite_or_inf(by_quorum, tokens_each))
    to_pass = np.where((col(vetoed_by_others) > 0) | (p >= 1.0), np.inf, to_pass)
    needed = np.where(col(community_pass) > 0, to_fail, to_pass)
    flippable = col(base_pass == community_pass) > 0
    needed = np.where(flippable, np.maximum(needed, 1.0), np.inf)
    others = (yes, no, tokens_cast, tokens_against, supply)
    if weights is None:
        def weights(n):
            return (n * power_each, n * tokens_each)
    return _settle_ties(needed, community_pass, others, params, weights)


def _settle_ties(needed, community_pass, others, params, weights) -> np.ndarray:
    """Correct the closed-form counts where floating point puts them one off at an exact tie.

    The closed forms divide by the per-identity weight; at a tie (the attacker's tokens landing
    exactly on the veto or quorum line, say) the quotient can round to the wrong side. Each
    finite count is checked with :func:`~.voting.decide` on the same sums the realised vote adds
    up (others' tallies plus ``n`` identities), then moved to the smallest ``n >= 1`` that flips.
    """
    yes, no, cast, against, supply = (np.asarray(x, dtype=float)[:, None] for x in others)
    votes_no = np.asarray(community_pass)[:, None] > 0
    rule = [np.asarray(params[k], dtype=float) for k in ("quorum", "pass_threshold", "veto_threshold")]
    rule = [r[:, None] if r.ndim else r for r in rule]

    def flips(n: np.ndarray) -> np.ndarray:
        power, tokens = weights(n)
        passes = decide(yes + np.where(votes_no, 0.0, power), no + np.where(votes_no, power, 0.0),
                        cast + tokens, against + np.where(votes_no, tokens, 0.0), supply, *rule)
        return passes != votes_no

    finite = np.isfinite(needed)
    n = np.where(finite, needed, 1.0)
    for _ in range(2):
        n = np.where(finite & (n > 1.0) & flips(n - 1.0), n - 1.0, n)
    for _ in range(2):
        n = np.where(finite & ~flips(n), n + 1.0, n)
    return np.where(finite, n, np.inf)


def _finite_or_inf(count: np.ndarray, per_identity: np.ndarray) -> np.ndarray:
    """``count`` where identities carry weight, ``inf`` where they carry none (0/0, x/0)."""
    return np.where((per_identity > 0) & ~np.isnan(count), count, np.inf)


def best_purchase(needed, stock, grid, q, price, uses, tokens, params) -> dict[str, np.ndarray]:
    """The expected-gain-maximising number of new identities from one source, per sample.

    ``needed`` is :func:`identities_needed` for ``k = 1 + stock + grid`` identities (``(B, G)``);
    ``stock`` the verified identities held, ``q`` the source's pass probability, ``price`` its
    price, ``uses`` :func:`expected_uses` and ``tokens`` the attacker's balance (all ``(B,)``).
    Returns ``index`` (into ``grid``), ``bought``, ``p_flip`` and ``net_gain`` at the best column,
    and ``gain``: best expected net gain minus that of buying nothing (never negative).
    """
    stock, q = np.asarray(stock, dtype=float)[:, None], np.asarray(q, dtype=float)[:, None]
    bought = grid[None, :].astype(float)
    k = 1.0 + stock + bought
    p_flip = pass_at_least(needed - 1.0 - stock, bought, q)
    spend = bought * np.asarray(price, dtype=float)[:, None]
    charged = spend / np.asarray(uses, dtype=float)[:, None]
    slash = float(params["slash_detected"]) * bought * (1.0 - q) * np.asarray(tokens, dtype=float)[:, None] / k
    value = np.asarray(params["attack_value"], dtype=float)[:, None]
    room = k <= params["max_identities"]
    net = np.where((spend <= value) & room, value * p_flip - charged - slash, -np.inf)
    index = np.argmax(net, axis=1)
    rows = np.arange(len(index))
    return {
        "index": index,
        "bought": bought[0, index],
        "p_flip": p_flip[rows, index],
        "net_gain": net[rows, index],
        "gain": net[rows, index] - net[:, 0],
    }


def split_weights(tokens, k, n, rule, power_of) -> tuple[np.ndarray, np.ndarray]:
    """Power and tokens of ``n`` of ``k`` identities that split ``tokens`` evenly (broadcasting).

    Tokens are ``tokens * (n / k)``, so all ``k`` identities together hold exactly ``tokens``:
    ``n * (tokens / k)`` can round above the unsplit balance and let a split cross a veto or
    quorum line that the whole balance does not. ``power_of(tokens)`` is the power of one
    identity holding ``tokens`` (see :func:`tokensim.mechanisms.governance.policies.power_function`).
    Under the linear rules power follows the tokens; under the per-person rules
    (``PERSONHOOD_RULES``) each identity counts on its own.
    """
    tokens_n = tokens * (n / k)
    if rule in PERSONHOOD_RULES:
        return n * power_of(tokens / k), tokens_n
    return power_of(tokens_n), tokens_n


def attacker_power_each(tokens, k, power_of) -> tuple[np.ndarray, np.ndarray]:
    """Power and tokens of each of ``k`` (``(B, G)``) identities splitting ``tokens`` (``(B,)``)."""
    tokens_each = np.asarray(tokens, dtype=float)[:, None] / k
    return power_of(tokens_each), tokens_each
