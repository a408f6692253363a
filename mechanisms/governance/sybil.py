"""The Sybil attacker's best response: how many identities to split its tokens over.

The attacker is one real person holding ``n`` tokens. It may split them evenly over ``k``
identities: its own (which always passes personhood) plus ``k - 1`` fakes, each bought at
``identity_cost`` and each passing proof of personhood with probability ``q`` (only under the
per-person rules; token rules check no identity, so there ``q = 1``). Detected fakes are removed
before the vote and, if slashing is on, their tokens are burned.

Before each proposal the attacker sees the tally of everyone else (a worst case: full
information about turnout and preferences) and votes against the community. For every ``k`` on a
geometric grid it computes how many identities must vote to flip the outcome, the probability
that enough fakes pass (an exact binomial tail, tabulated once per run), and its expected net gain
``value * P(flip | k) - (k - 1) * identity_cost - E[slashed tokens]``, subject to spending at most
``value`` on identities. It plays the ``k`` with the largest expected net gain (the smallest such
``k`` on ties, so with nothing to gain it does not split). All arrays are ``(B, G)`` over samples
and the grid.
"""
from __future__ import annotations

import numpy as np

from .voting import PERSONHOOD_RULES, decide

GRID_POINTS = 48


def identity_grid(max_identities: int, points: int = GRID_POINTS) -> np.ndarray:
    """Distinct integers from 1 to ``max_identities``, roughly geometric (always includes 1)."""
    return np.unique(np.round(np.geomspace(1, max_identities, points)).astype(np.int64))


def pass_tail_table(grid: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Binomial tails of passing fakes for every grid size, flattened per sample.

    Returns ``(tail, offsets)`` with ``tail[b, offsets[g] + r] = P(Bin(grid[g] - 1, q[b]) >= r)``
    for ``r = 0 .. grid[g]`` (the last entry, r = grid[g], is 0: more fakes than exist).
    The pmf is built in log space (log binomial coefficients by cumulative sums) so large ``k``
    neither overflows nor underflows to NaN; the tail is normalised so ``tail[:, offsets] = 1``.
    """
    segments = [_tail_segment(int(k) - 1, q) for k in grid]
    return np.concatenate(segments, axis=1), tail_offsets(grid)


def tail_offsets(grid: np.ndarray) -> np.ndarray:
    """Where each grid size's segment starts in the flattened tail table (segments hold k + 1 entries)."""
    return np.concatenate([[0], np.cumsum(grid + 1)[:-1]]).astype(np.int64)


def _tail_segment(n: int, q: np.ndarray) -> np.ndarray:
    x = np.arange(n + 1, dtype=float)
    log_choose = np.concatenate([[0.0], np.cumsum(np.log((n - x[1:] + 1.0) / x[1:]))])
    with np.errstate(divide="ignore", invalid="ignore"):
        log_q, log_not_q = np.log(q)[:, None], np.log1p(-q)[:, None]
        log_pmf = log_choose + np.where(x > 0, x * log_q, 0.0) + np.where(x < n, (n - x) * log_not_q, 0.0)
    pmf = np.exp(log_pmf)
    tail = np.cumsum(pmf[:, ::-1], axis=1)[:, ::-1]
    tail = np.minimum(tail / tail[:, :1], 1.0)
    return np.concatenate([tail, np.zeros((len(q), 1))], axis=1)


def identities_needed(base_pass, community_pass, vetoed_by_others, yes, no, tokens_cast, tokens_against,
                      supply, params, power_each, tokens_each, weights=None) -> np.ndarray:
    """Voting identities the attacker needs to flip the outcome, per sample and grid ``k``.

    The attacker votes against ``community_pass`` with ``power_each`` and ``tokens_each`` per
    identity (``(B, G)``). Returns a float ``(B, G)`` array, ``inf`` where no number of
    identities flips it (the outcome already goes against the community, a veto by others blocks
    a pass, or the attacker has no power). Others' tallies are ``(B,)`` arrays. ``weights(n)``
    gives the power and tokens of ``n`` identities as the realised vote counts them (default
    ``n * power_each, n * tokens_each``; see :func:`split_weights`).
    """
    p = params["pass_threshold"][:, None]
    col = lambda a: np.asarray(a, dtype=float)[:, None]  # noqa: E731
    with np.errstate(divide="ignore", invalid="ignore"):
        # community wants a pass: voting no flips it once A >= Y/p - Y - N (majority) or once the
        # attacker's no-tokens push the tokens against above the veto line
        by_majority = np.ceil((col(yes) * (1.0 - p) / p - col(no)) / power_each)
        by_veto = np.floor((col(params["veto_threshold"] * supply) - col(tokens_against)) / tokens_each) + 1.0
        to_fail = np.minimum(_finite_or_inf(by_majority, power_each), _finite_or_inf(by_veto, tokens_each))
        # community wants a fail: voting yes flips it once A > pN/(1-p) - Y and the quorum is met
        by_majority_yes = np.floor((col(no) * p / (1.0 - p) - col(yes)) / power_each) + 1.0
        by_quorum = np.ceil((col(params["quorum"] * supply) - col(tokens_cast)) / tokens_each)
        to_pass = np.maximum(_finite_or_inf(by_majority_yes, power_each), _finite_or_inf(by_quorum, tokens_each))
    to_pass = np.where(col(vetoed_by_others) > 0, np.inf, to_pass)
    needed = np.where(col(community_pass) > 0, to_fail, to_pass)
    flippable = col(base_pass == community_pass) > 0
    needed = np.where(flippable, np.maximum(needed, 1.0), np.inf)
    others = (yes, no, tokens_cast, tokens_against, supply)
    if weights is None:
        weights = lambda n: (n * power_each, n * tokens_each)  # noqa: E731
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


def best_response(needed, grid, tail, offsets, q, tokens, params) -> dict[str, np.ndarray]:
    """The attacker's expected-gain-maximising ``k`` per sample, with what it expects.

    ``needed`` is :func:`identities_needed`; ``q`` the per-sample pass probability of a fake and
    ``tokens`` the attacker's balance (both ``(B,)``). Returns ``index`` (into ``grid``), ``k``, ``p_flip`` and ``net_gain`` at the best
    ``k``, and ``sybil_gain``: best expected net gain minus that of not splitting (``k = 1``),
    which is never negative.
    """
    fakes = grid[None, :] - 1
    fakes_needed = np.clip(needed - 1.0, 0.0, grid[None, :]).astype(np.int64)
    p_flip = np.take_along_axis(tail, offsets[None, :] + fakes_needed, axis=1)
    spend = fakes * params["identity_cost"][:, None]
    tokens_each = np.asarray(tokens, dtype=float)[:, None] / grid[None, :]
    slash = float(params["slash_detected"]) * fakes * (1.0 - q[:, None]) * tokens_each
    value = params["attack_value"][:, None]
    net = np.where(spend <= value, value * p_flip - spend - slash, -np.inf)
    index = np.argmax(net, axis=1)
    rows = np.arange(len(index))
    return {
        "index": index,
        "k": grid[index],
        "p_flip": p_flip[rows, index],
        "net_gain": net[rows, index],
        "sybil_gain": net[rows, index] - net[:, 0],
    }


def realised_passes(u, index, grid, tail, offsets) -> np.ndarray:
    """Fakes that pass personhood, by inverse CDF from one uniform ``u`` per sample.

    ``P(passes >= r) = tail[r]``, so ``passes = #{r >= 1 : u < tail[r]}``; one uniform per
    sample keeps the random streams aligned whatever ``k`` the attacker picks.
    """
    k = grid[index]
    r = np.arange(1, grid[-1])
    valid = r[None, :] < k[:, None]
    cols = np.minimum(offsets[index][:, None] + r[None, :], tail.shape[1] - 1)
    return (valid & (u[:, None] < np.take_along_axis(tail, cols, axis=1))).sum(axis=1)


def split_weights(tokens, k, n, rule, power_of) -> tuple[np.ndarray, np.ndarray]:
    """Power and tokens of ``n`` of ``k`` identities that split ``tokens`` evenly (broadcasting).

    Tokens are ``tokens * (n / k)``, so all ``k`` identities together hold exactly ``tokens``:
    ``n * (tokens / k)`` can round above the unsplit balance and let a split cross a veto or
    quorum line that the whole balance does not. ``power_of(tokens)`` is the power of one
    identity holding ``tokens`` (see :func:`mechanisms.governance.policies.power_function`).
    Under the linear rules power follows the tokens; under the per-person rules
    (``PERSONHOOD_RULES``) each identity counts on its own.
    """
    tokens_n = tokens * (n / k)
    if rule in PERSONHOOD_RULES:
        return n * power_of(tokens / k), tokens_n
    return power_of(tokens_n), tokens_n


def attacker_power_each(tokens, grid, power_of) -> tuple[np.ndarray, np.ndarray]:
    """Power and tokens of each of the attacker's identities for every grid ``k``: ``(B, G)`` each."""
    tokens_each = np.asarray(tokens, dtype=float)[:, None] / grid[None, :]
    return power_of(tokens_each), tokens_each
