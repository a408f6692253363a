"""Pure voting arithmetic: the power of each identity under each rule, and the pass/fail decision.

Every function is batched numpy with no randomness and no state, so other models can import it.
Arrays are ``(B, n)`` (samples x identities) or ``(B,)``; scalars broadcast.

Rules
-----
``token``
    One token, one vote: power = tokens (Compound/Uniswap-style token voting).
``sqrt_token``
    Square root of the whole balance per identity on every proposal: an identity with ``t``
    tokens casts ``sqrt(t)`` votes. Splitting ``n`` tokens evenly over ``k`` identities gives
    ``k * sqrt(n / k) = sqrt(k * n)`` votes, which is why any square-root rule needs Sybil
    resistance. This is *not* quadratic voting: there is no budget spread across issues.
``quadratic``
    Quadratic voting with voice credits (Lalley & Weyl 2018; Posner & Weyl, *Radical Markets*,
    2018, ch. 2): each identity receives voice credits per period (equal, or in proportion to its
    tokens), and casting ``v`` votes on a proposal costs ``v**2`` credits, so a voter spreads a
    budget over the period's proposals by how much it cares (:func:`qv_spend`). Unspent credits
    carry over or expire at the end of a period.
``one_person``
    One person, one vote: every identity holding a positive balance has power 1; meant to be used
    with proof of personhood.
``stake_age``
    A stake-age weight on a yes/no vote: power = tokens * (1 - alpha^(age + 1)), stake held longer
    votes with more weight (a simplification inspired by conviction voting's charging; it is not
    conviction voting).
``conviction``
    Conviction voting as BlockScience and 1Hive define it (BlockScience/Aragon_Conviction_Voting,
    models/v3/model/parts/utils.py ``trigger_threshold`` and participants.py): supporters stake
    tokens on a funding proposal requesting a share ``r/R`` of a common pool; conviction grows as
    ``y(t+1) = alpha * y(t) + x`` and the proposal passes when it exceeds the trigger threshold
    ``rho * S / (1 - alpha) / (beta - r/R)**2`` (infinite for ``r/R >= beta``), ``S`` the
    effective supply (tokens staked). There is no "no" vote: opponents stake elsewhere, which
    raises ``S``. With stakes held for a proposal's ``days`` this is a yes-share test, see
    :func:`conviction_pass_share`.
``delegated``
    Delegated token voting: delegators' tokens are added to their delegate's, who votes them.

Decision: a proposal passes when the tokens cast reach the quorum, the yes power strictly exceeds
``pass_threshold`` of the power cast (ties keep the status quo), and the tokens voting no do not
exceed ``veto_threshold`` of the supply (a stake-based veto as in Lido's dual governance, where
stETH holders can block by escrowing stake). Under ``conviction`` the model replaces the pass
threshold by :func:`conviction_pass_share` and turns quorum and veto off.

Stable API for other models: :func:`token_vote` (a token-weighted tally and decision).
"""
from __future__ import annotations

import numpy as np

RULES = ("token", "sqrt_token", "quadratic", "one_person", "stake_age", "conviction", "delegated")
PERSONHOOD_RULES = ("sqrt_token", "quadratic", "one_person")
"""Rules that give each identity its own weight, so they check proof of personhood."""
CREDIT_BASES = ("equal", "tokens")


def stake_age_multiplier(age: np.ndarray, alpha: np.ndarray | float) -> np.ndarray:
    """Weight of stake held for ``age`` proposals under ``stake_age``: ``1 - alpha**(age+1)``.

    ``alpha`` is the per-proposal decay; 0 gives every stake full weight at once.
    """
    return 1.0 - np.power(alpha, np.asarray(age, dtype=float) + 1.0)


def identity_power(tokens: np.ndarray, rule: str, multiplier: np.ndarray | float = 1.0) -> np.ndarray:
    """Voting power of identities holding ``tokens`` each under a stake-based ``rule``.

    ``multiplier`` is the stake-age weight (``stake_age`` only). Delegation is not applied here:
    pass the delegate's effective stake (see :func:`delegate_stake`). ``quadratic`` votes come
    from voice credits, not tokens: use :func:`qv_votes`.
    """
    tokens = np.asarray(tokens, dtype=float)
    if rule in ("token", "delegated", "conviction"):
        return tokens
    if rule == "sqrt_token":
        return np.sqrt(tokens)
    if rule == "one_person":
        return (tokens > 0).astype(float)
    if rule == "stake_age":
        return tokens * multiplier
    if rule == "quadratic":
        raise ValueError("quadratic votes are bought with voice credits: use qv_votes(credits spent)")
    raise ValueError(f"unknown rule {rule!r}; rules: {RULES}")


def split_power(tokens, identities, rule: str, voting=None, multiplier=1.0) -> np.ndarray:
    """Power of ``tokens`` split evenly over ``identities`` identities, of which ``voting`` vote.

    ``voting`` defaults to all identities. For ``sqrt_token`` with all voting this is
    ``sqrt(identities * tokens)``; for ``token`` it is ``tokens`` whatever the split.
    """
    identities = np.asarray(identities, dtype=float)
    voting = identities if voting is None else np.asarray(voting, dtype=float)
    return voting * identity_power(np.asarray(tokens, dtype=float) / identities, rule, multiplier)


def sqrt_token_votes(tokens, identities) -> np.ndarray:
    """Votes of ``tokens`` split evenly over ``identities`` identities under ``sqrt_token``: ``sqrt(k n)``."""
    return split_power(tokens, identities, "sqrt_token")


# --- quadratic voting with voice credits ---------------------------------------------------------

def qv_cost(votes) -> np.ndarray:
    """Voice credits that ``votes`` votes cost: ``votes**2`` (either direction)."""
    return np.square(np.asarray(votes, dtype=float))


def qv_votes(credits_spent) -> np.ndarray:
    """Votes that ``credits_spent`` voice credits buy: ``sqrt(credits)``, the inverse of :func:`qv_cost`."""
    return np.sqrt(np.maximum(np.asarray(credits_spent, dtype=float), 0.0))


def qv_spend(credits, intensity, remaining, mean_square_intensity) -> np.ndarray:
    """Credits an identity spends on the current proposal out of its ``credits`` left this period.

    With a budget ``C`` and intensities ``u_j`` over the period's proposals, maximising
    ``sum u_j v_j`` subject to ``sum v_j**2 <= C`` gives ``v_j`` proportional to ``u_j`` (votes in
    proportion to how much one cares; Lalley & Weyl 2018). Not knowing future intensities, the
    voter spends ``C * u**2 / (u**2 + (remaining - 1) * E[u**2])`` on this one: all of it on the
    period's last proposal, never more than ``C``. ``remaining`` counts this proposal.
    """
    u2 = np.square(np.asarray(intensity, dtype=float))
    later = (np.asarray(remaining, dtype=float) - 1.0) * mean_square_intensity
    denominator = u2 + later
    if np.all(later >= 0) and np.all(denominator > 0):
        # the usual case, with the same numbers: u2 <= u2 + later, so u2 / denominator is already in [0, 1]
        return np.asarray(credits, dtype=float) * (u2 / denominator)
    share = np.where(denominator > 0, u2 / np.where(denominator > 0, denominator, 1.0), 1.0)
    return np.asarray(credits, dtype=float) * np.clip(share, 0.0, 1.0)


def voice_credit_allocation(tokens, basis: str, credits: np.ndarray | float, mean_balance) -> np.ndarray:
    """Voice credits an identity holding ``tokens`` receives per period.

    ``equal``: ``credits`` each (one budget per person, as in Posner & Weyl). ``tokens``: in
    proportion to tokens, ``credits * tokens / mean_balance`` (a holder of the mean community
    balance gets ``credits``).
    """
    tokens = np.asarray(tokens, dtype=float)
    if basis == "equal":
        return np.broadcast_to(np.asarray(credits, dtype=float), tokens.shape).copy()
    if basis == "tokens":
        return np.asarray(credits, dtype=float) * tokens / mean_balance
    raise ValueError(f"unknown voice-credit basis {basis!r}; bases: {CREDIT_BASES}")


# --- conviction voting -----------------------------------------------------------------------------

def conviction_step(conviction, staked, alpha) -> np.ndarray:
    """One step of conviction: ``y(t+1) = alpha * y(t) + x`` (BlockScience v3 participants.py)."""
    return alpha * np.asarray(conviction, dtype=float) + np.asarray(staked, dtype=float)


def conviction_after(staked, alpha, days) -> np.ndarray:
    """Conviction from 0 after ``days`` steps of a constant stake: ``x (1 - alpha**days) / (1 - alpha)``."""
    return np.asarray(staked, dtype=float) * (1.0 - np.power(alpha, days)) / (1.0 - alpha)


def trigger_threshold(requested, funds, supply, alpha, beta, rho) -> np.ndarray:
    """Conviction needed to pass a request of ``requested`` from a pool of ``funds``.

    ``rho * supply / (beta - requested / funds)**2 / (1 - alpha)``, infinite when the requested
    share reaches ``beta`` (BlockScience/1Hive, models/v3/model/parts/utils.py).
    """
    share = np.asarray(requested, dtype=float) / funds
    gap = np.where(share < beta, beta - share, np.nan)
    with np.errstate(invalid="ignore"):
        threshold = rho * np.asarray(supply, dtype=float) / np.square(gap) / (1.0 - alpha)
    return np.where(share < beta, threshold, np.inf)


def conviction_pass_share(alpha, days, beta, rho, requested_share) -> np.ndarray:
    """Share of the effective supply that must stay staked in support for ``days`` to pass.

    Staking ``x`` of effective supply ``S`` from zero conviction for ``days`` steps passes when
    ``x (1 - alpha**days) / (1 - alpha) > rho S / ((1 - alpha) (beta - r)**2)``, i.e. when
    ``x / S > rho / ((1 - alpha**days) (beta - r)**2)``; infinite for ``r >= beta``. Values of 1
    or more mean no support can pass it.
    """
    r = np.asarray(requested_share, dtype=float)
    gap = np.where(r < beta, beta - r, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = rho / ((1.0 - np.power(alpha, days)) * np.square(gap))
    return np.where(r < beta, share, np.inf)


# --- delegation, tally and decision -------------------------------------------------------------

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
    return masked_sum(power, cast & yes), masked_sum(power, cast & ~yes)


def masked_sum(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per row, the sum of ``values`` where ``mask`` holds (the tallies' one reduction).

    Multiply-then-sum, not einsum: einsum's summation order depends on the batch size, and a
    sample must give the same numbers alone or in a batch."""
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


def token_vote(stake, cast, yes, supply, quorum=0.0, pass_threshold=0.5, veto_threshold=1.0) -> dict[str, np.ndarray]:
    """A token-weighted vote: tally ``stake`` of the holders that ``cast`` a ballot and decide.

    ``stake``, ``cast`` and ``yes`` are ``(B, n)`` (or ``(n,)``); returns ``yes`` and ``no``
    (tokens) and ``passed`` per row, by :func:`decide`. Other models (the inflation model's
    governance emission policy) call this; its name and arguments are kept stable.
    """
    stake = np.asarray(stake, dtype=float)
    cast, yes = np.asarray(cast, dtype=bool), np.asarray(yes, dtype=bool)
    yes_tokens, no_tokens = tally(stake, cast, yes)
    passed = decide(yes_tokens, no_tokens, yes_tokens + no_tokens, no_tokens, supply, quorum, pass_threshold,
                    veto_threshold)
    return {"yes": yes_tokens, "no": no_tokens, "passed": passed}
