"""Pure voting arithmetic: the power of each identity under each rule, and the pass/fail decision.

Every function is batched numpy with no randomness and no state, so other models can import it.
Arrays are ``(B, n)`` (samples x identities) or ``(B,)``; scalars broadcast.

Rules
-----
``token``
    One token, one vote: power = tokens (Compound/Uniswap-style token voting).
``quadratic``
    Quadratic voting: an identity with ``t`` tokens casts ``sqrt(t)`` votes. Splitting ``n`` tokens
    evenly over ``k`` identities gives ``k * sqrt(n / k) = sqrt(k * n)`` votes, which is why QV
    needs Sybil resistance (Lalley & Weyl, "Quadratic Voting: How Mechanism Design Can Radicalize
    Democracy", AEA Papers and Proceedings 108, 2018, https://doi.org/10.1257/pandp.20181002;
    Buterin, Hitzig & Weyl, "A Flexible Design for Funding Public Goods", Management Science
    65(11), 2019, https://arxiv.org/abs/1809.06421, on collusion and fake identities).
``one_person``
    One person, one vote: every identity holding a positive balance has power 1; meant to be used
    with proof of personhood.
``conviction``
    Conviction voting: power = tokens * (1 - alpha^(age + 1)), the steady-state form of 1Hive's
    conviction ``y_t = alpha * y_(t-1) + tokens`` normalised by its maximum ``tokens / (1 - alpha)``;
    stake held longer votes with more weight.
``delegated``
    Delegated token voting: delegators' tokens are added to their delegate's, who votes them.

Decision: a proposal passes when the tokens cast reach the quorum, the yes power strictly exceeds
``pass_threshold`` of the power cast (ties keep the status quo), and the tokens voting no do not
exceed ``veto_threshold`` of the supply (a stake-based veto as in Lido's dual governance, where
stETH holders can block by escrowing stake).
"""
from __future__ import annotations

import numpy as np

RULES = ("token", "quadratic", "one_person", "conviction", "delegated")
PERSONHOOD_RULES = ("quadratic", "one_person")


def conviction_multiplier(age: np.ndarray, alpha: np.ndarray | float) -> np.ndarray:
    """Share of full conviction reached by stake held for ``age`` proposals: ``1 - alpha**(age+1)``.

    ``alpha`` is the per-proposal decay; 0 gives every stake full weight at once.
    """
    return 1.0 - np.power(alpha, np.asarray(age, dtype=float) + 1.0)


def identity_power(tokens: np.ndarray, rule: str, multiplier: np.ndarray | float = 1.0) -> np.ndarray:
    """Voting power of identities holding ``tokens`` each under ``rule``.

    ``multiplier`` is the conviction multiplier (used by ``conviction`` only). Delegation is not
    applied here: pass the delegate's effective stake (see :func:`delegate_stake`).
    """
    tokens = np.asarray(tokens, dtype=float)
    if rule in ("token", "delegated"):
        return tokens
    if rule == "quadratic":
        return np.sqrt(tokens)
    if rule == "one_person":
        return (tokens > 0).astype(float)
    if rule == "conviction":
        return tokens * multiplier
    raise ValueError(f"unknown rule {rule!r}; rules: {RULES}")


def split_power(tokens, identities, rule: str, voting=None, multiplier=1.0) -> np.ndarray:
    """Power of ``tokens`` split evenly over ``identities`` identities, of which ``voting`` vote.

    ``voting`` defaults to all identities. For ``quadratic`` with all voting this is
    ``sqrt(identities * tokens)``; for ``token`` it is ``tokens`` whatever the split.
    """
    identities = np.asarray(identities, dtype=float)
    voting = identities if voting is None else np.asarray(voting, dtype=float)
    return voting * identity_power(np.asarray(tokens, dtype=float) / identities, rule, multiplier)


def quadratic_votes(tokens, identities) -> np.ndarray:
    """Votes of ``tokens`` split evenly over ``identities`` identities under QV: ``sqrt(k * n)``."""
    return split_power(tokens, identities, "quadratic")


def delegate_stake(stake: np.ndarray, delegate_of: np.ndarray) -> np.ndarray:
    """Stake each wallet votes once delegators hand their tokens' votes to their delegates.

    ``stake`` is ``(B, n)``; ``delegate_of[b, i]`` is the column of wallet i's delegate, or -1 if
    it votes for itself. Tokens do not move: the row sums of the result equal those of ``stake``.
    """
    size, n = stake.shape
    delegating = delegate_of >= 0
    rows = np.arange(size)[:, None] * n
    target = (rows + np.where(delegating, delegate_of, 0)).ravel()
    moved = np.bincount(target, weights=np.where(delegating, stake, 0.0).ravel(), minlength=size * n)
    return np.where(delegating, 0.0, stake) + moved.reshape(size, n)


def tally(power: np.ndarray, cast: np.ndarray, yes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Yes and no power cast, per row: sums of ``power`` over identities that ``cast`` a vote."""
    return _row_dot(power, cast & yes), _row_dot(power, cast & ~yes)


def _row_dot(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    # multiply-then-sum, not einsum: einsum's summation order depends on the batch size, and a
    # sample must give the same numbers alone or in a batch
    return (np.asarray(values, dtype=float) * mask).sum(axis=-1)


def decide(yes, no, tokens_cast, tokens_against, supply, quorum, pass_threshold, veto_threshold) -> np.ndarray:
    """Whether each proposal passes (see the module docstring for the rule).

    ``yes``/``no`` are voting power; ``tokens_cast`` and ``tokens_against`` are tokens, compared
    with ``quorum * supply`` and ``veto_threshold * supply``.
    """
    quorum_met = tokens_cast >= quorum * supply
    majority = yes > pass_threshold * (yes + no)
    vetoed = tokens_against > veto_threshold * supply
    return quorum_met & majority & ~vetoed
