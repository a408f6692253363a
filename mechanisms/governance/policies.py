"""The cadCAD policy of the governance model: one proposal per timestep, voted on by everyone.

Per proposal, per sample:

1. Preferences. The share of the community favouring the proposal is drawn in log-odds around
   ``support_mean``; each member favours it with that probability and cares with a lognormal
   intensity, scaled up on one side and down on the other by a per-proposal factor
   (``intensity_skew``), so an intense minority can outweigh an indifferent majority. The
   community's utility-weighted preference is the sign of the summed utilities; its head-count
   preference is the strict majority (ties keep the status quo, a fail).
2. Whales vote as one bloc against the community's utility-weighted preference with probability
   ``whale_opposition``, otherwise with it, and always turn out (an organised fund).
3. Turnout: a community wallet votes with probability ``base_turnout * v / (v + participation_cost)``
   for the currency value ``v`` of its stake (see :func:`.state.turnout_probability`). Under the ``delegated`` rule delegators' tokens are voted by their delegate,
   and a delegate holding delegated tokens always votes.
4. The attacker sees everyone else's tally, picks its number of identities by best response
   (:mod:`tokensim.mechanisms.governance.sybil`) and votes against the community.
5. The outcome, and the outcomes without the whales and without the attacker (to attribute vetoes
   and flips), by :func:`tokensim.mechanisms.governance.voting.decide`.

Utility is per person, not per token: the community's will is that of its members. Whales and the
attacker are outside the community whose welfare is measured.
"""
from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import numpy as np

from .borrowing import BORROW_RULES, tokens_to_borrow
from .metrics import cast_power_counters, welfare_loss
from .state import fake_pass_probability
from .sybil import (
    attacker_power_each,
    best_purchase,
    expected_uses,
    identities_needed,
    purchase_grid,
    realised_passes,
    split_weights,
)
from .voting import (
    conviction_pass_share,
    decide,
    delegate_stake,
    identity_power,
    masked_sum,
    qv_spend,
    qv_votes,
    stake_age_multiplier,
    voice_credit_allocation,
)


def draw_proposal(rng, n_community: int) -> dict[str, np.ndarray]:
    """All random draws of one proposal, in a fixed order that no parameter changes.

    Two generator calls per sample (:meth:`~tokensim.mechanisms.core.seeding.BatchRNG.step_draws`):
    one block of ``n_community + 2`` standard normals (support, skew, then each member's intensity)
    and one of ``2 n_community + 3`` uniforms (whale, sybil, decay, then each member's favour, then
    each member's turnout). Each row comes from its own sample's generator only, so a sample draws
    the same numbers alone or in any batch, on any worker or backend (governance 2.1; 2.0 made
    eight calls per sample in another order).
    """
    n = n_community
    return rng.step_draws(normal={"support": (), "skew": (), "intensity": (n,)},
                          uniform={"whale": (), "sybil": (), "decay": (), "favour": (n,), "turnout": (n,)})


def community_preferences(draws: Mapping[str, np.ndarray], params: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Who favours the proposal, each member's utility, and both community preferences."""
    logit = np.log(params["support_mean"] / (1.0 - params["support_mean"])) + params["support_spread"] * draws["support"]
    support = 1.0 / (1.0 + np.exp(-logit))
    yes = draws["favour"] < support[:, None]
    side = np.exp(0.5 * params["intensity_skew"] * draws["skew"])
    intensity = np.exp(params["intensity_sigma"][:, None] * draws["intensity"])
    # intensities are finite and positive, so x * 1 = x, x * 0 = x - x = 0 and x + 0 = x exactly: these
    # are the numbers of intensity * ~yes and of np.where(yes, side * intensity, intensity / side),
    # without np.where's branch on a random mask (about 3 ns per member)
    favour = intensity * yes
    against = intensity - favour
    total = side * favour.sum(axis=1) - against.sum(axis=1) / side
    # each member's scaled intensity is used by the quadratic rule's spending only
    scaled = side[:, None] * favour + against / side[:, None] if params["rule"] == "quadratic" else None
    return {
        "yes": yes,
        "intensity": scaled,
        "utility_total": total,
        "utility_pass": total > 0,
        "headcount_pass": 2 * yes.sum(axis=1) > yes.shape[1],
    }


def _like(x, target):
    """``x`` (a scalar or ``(B,)``) shaped to broadcast against ``target`` (``(B,)`` or ``(B, n)``)."""
    x = np.asarray(x, dtype=float)
    return x.reshape(x.shape + (1,) * (np.ndim(target) - x.ndim)) if x.ndim else x


def mean_square_intensity(params) -> np.ndarray:
    """``E[u**2]`` of a member's lognormal intensity ``u = exp(sigma z)``: ``exp(2 sigma**2)``."""
    return np.exp(2.0 * np.square(params["intensity_sigma"]))


def proposals_left_in_period(state, params) -> np.ndarray:
    """Proposals left in the current voice-credit period, this one included (``(B,)``)."""
    period = params["credit_period"]
    return period - np.mod(state["proposals"], period)


def power_function(state, params, age):
    """``power_of(tokens)``: the power one identity of the whale/attacker kind holding ``tokens`` casts.

    Under ``stake_age`` the stake is ``age`` proposals old; under ``quadratic`` an identity bought
    for this proposal receives its period's voice credits (:func:`~.voting.voice_credit_allocation`)
    and paces them evenly over the period (it cares equally about every proposal it opposes), so it
    casts ``sqrt(credits / credit_period)`` votes.
    """
    rule = params["rule"]
    if rule == "quadratic":
        mean_balance = state["balances"][:, : state["delegate_of"].shape[1]].mean(axis=1)

        def power_of(tokens):
            credits = voice_credit_allocation(tokens, params["credit_basis"], _like(params["voice_credits"], tokens),
                                              _like(mean_balance, tokens))
            return qv_votes(np.where(tokens > 0, credits, 0.0) / params["credit_period"])
        return power_of
    multiplier = stake_age_multiplier(age, params["stake_age_alpha"]) if rule == "stake_age" else 1.0
    return lambda tokens: identity_power(tokens, rule, _like(multiplier, tokens))


def holder_votes(state, params, prefs, turnout_draw, whales_yes) -> dict[str, np.ndarray]:
    """Stake voted, power, who casts and which way, for community wallets then whales.

    Under ``quadratic`` a casting member spends credits by :func:`~.voting.qv_spend` on its
    intensity; whales pace theirs evenly over the period (``spent`` is returned for the update).
    """
    balances, delegate_of = state["balances"], state["delegate_of"]
    n_community = delegate_of.shape[1]
    own = balances[:, :n_community]
    direct = turnout_draw < state["turnout_probability"]
    if params["rule"] == "delegated":
        voted = delegate_stake(own, delegate_of)
        delegating = delegate_of >= 0
        has_delegators = delegate_stake(np.ones_like(own), delegate_of) > 1.0
        cast = ~delegating & (direct | has_delegators)
        represented = delegating | cast
    else:
        voted, cast, represented = own, direct, direct
    stake = np.concatenate([voted, balances[:, n_community:]], axis=1)
    n_whales = balances.shape[1] - n_community
    cast_all = np.concatenate([cast, np.ones((len(balances), n_whales), dtype=bool)], axis=1)
    spent = np.broadcast_to(0.0, stake.shape)  # read-only zeros: only the quadratic rule spends credits
    if params["rule"] == "quadratic":
        remaining = proposals_left_in_period(state, params)[:, None]
        credits = state["voice_credits"]
        community = qv_spend(credits[:, :n_community], prefs["intensity"], remaining,
                             mean_square_intensity(params)[:, None])
        spent = np.empty(stake.shape)
        # spending times the cast mask: spending is finite and non-negative, so this is exactly
        # np.where(cast, spending, 0.0) in one pass (whales always cast)
        np.multiply(community, cast, out=spent[:, :n_community])
        np.divide(credits[:, n_community:], remaining, out=spent[:, n_community:])
        power = qv_votes(spent)
    elif params["rule"] == "stake_age":
        age = state["first_stake_age"] + state["proposals"][:, None]
        power = identity_power(stake, "stake_age", stake_age_multiplier(age, params["stake_age_alpha"][:, None]))
    else:
        power = identity_power(stake, params["rule"])
    return {
        "stake": stake,
        "power": power,
        "cast": cast_all,
        "yes": np.concatenate([prefs["yes"], np.repeat(whales_yes[:, None], n_whales, axis=1)], axis=1),
        "represented": represented,
        "spent": spent,
    }


def decision_params(params) -> dict[str, Any]:
    """The quorum, pass and veto thresholds the rule applies (``(B,)`` each).

    Conviction voting has no quorum, no veto and no "no" vote that counts against a proposal other
    than by raising the effective supply: it passes when the staked support exceeds
    :func:`~.voting.conviction_pass_share` of the tokens staked.
    """
    if params["rule"] != "conviction":
        return {k: params[k] for k in ("quorum", "pass_threshold", "veto_threshold")}
    share = conviction_pass_share(params["conviction_alpha"], params["conviction_days"], params["conviction_beta"],
                                  params["conviction_rho"], params["requested_share"])
    size = np.shape(share)
    return {"quorum": np.zeros(size), "pass_threshold": share, "veto_threshold": np.ones(size)}


def side_totals(votes: Mapping[str, np.ndarray], columns: slice) -> dict[str, np.ndarray]:
    """Yes/no power and tokens cast/against by the holders in ``columns``."""
    power, stake = votes["power"][:, columns], votes["stake"][:, columns]
    cast, yes = votes["cast"][:, columns], votes["yes"][:, columns]
    # tally's masks, made once for power and tokens (the same sums as two tally calls)
    cast_yes, cast_no = cast & yes, cast & ~yes
    yes_power, no_power = masked_sum(power, cast_yes), masked_sum(power, cast_no)
    # where power is the stake itself (token, delegated, conviction) its tally is the tokens' tally
    same = votes["power"] is votes["stake"]
    yes_tokens, no_tokens = (yes_power, no_power) if same else (masked_sum(stake, cast_yes), masked_sum(stake, cast_no))
    return {"yes": yes_power, "no": no_power, "cast": yes_tokens + no_tokens, "against": no_tokens}


def combine(*parts: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Element-wise sum of tallies."""
    return {key: sum(part[key] for part in parts) for key in parts[0]}


def _buy(state, params, rule, others, base_pass, prefs, supply, draws, power_of, stock):
    """The attacker's identity purchase: best source and count, realised passes, the split's vote."""
    tokens = state["attacker_tokens"]
    grid = purchase_grid(params["max_identities"])
    k = 1.0 + stock[:, None] + grid[None, :]
    power_each, tokens_each = attacker_power_each(tokens, k, power_of)
    vetoed = others["against"] > rule["veto_threshold"] * supply
    weights = partial(split_weights, tokens[:, None], k, rule=params["rule"], power_of=power_of)
    needed = identities_needed(base_pass, prefs["utility_pass"], vetoed, others["yes"], others["no"],
                               others["cast"], others["against"], supply, {**params, **rule}, power_each,
                               tokens_each, weights)
    uses = expected_uses(params["identity_detection"], params["attack_horizon"] - state["proposals"])
    q_fake, q_market = fake_pass_probability(params, len(tokens))
    fake = best_purchase(needed, stock, grid, q_fake, params["identity_cost"], uses, tokens, params)
    market = best_purchase(needed, stock, grid, q_market, params["market_identity_cost"], uses, tokens, params)
    use_market = market["net_gain"] > fake["net_gain"]
    bought = np.where(use_market, market["bought"], fake["bought"])
    q = np.where(use_market, q_market, q_fake)
    passes = realised_passes(draws["sybil"], bought, q)
    k_real, voting = 1.0 + stock + bought, 1.0 + stock + passes
    power, tokens_voting = split_weights(tokens, k_real, voting, params["rule"], power_of)
    return {
        "power": power, "tokens": tokens_voting, "k": k_real, "stock": stock + passes, "fake_votes": voting - 1.0,
        "spend": bought * np.where(use_market, params["market_identity_cost"], params["identity_cost"]),
        "slashed": float(params["slash_detected"]) * tokens * ((bought - passes) / k_real),
        "gain": np.where(use_market, market["gain"], fake["gain"]),
    }


def _side(power, tokens, votes_yes) -> dict[str, np.ndarray]:
    """A tally of ``power``/``tokens`` cast yes where ``votes_yes``, else no."""
    return {"yes": np.where(votes_yes, power, 0.0), "no": np.where(votes_yes, 0.0, power), "cast": tokens,
            "against": np.where(votes_yes, 0.0, tokens)}


def attacker_vote(state, params, rule, others, base_pass, prefs, supply, draws) -> dict[str, np.ndarray]:
    """The attacker's vote against the community: identities (:mod:`.sybil`), then a loan (:mod:`.borrowing`).

    ``rule`` holds the quorum, pass and veto thresholds in force (:func:`decision_params`). Its
    outlay counts identity purchases (once, when bought), slashed tokens, loan fees and the cost of
    its capital: the opportunity cost ``capital_rate`` per proposal on the tokens it holds, and,
    at the first proposal, the price impact of having bought them (a linear impact of
    ``price_impact`` per share of supply bought, so the premium is ``price_impact * T**2 / (2 S)``).
    """
    tokens = state["attacker_tokens"]
    present = tokens > 0
    detection = params["identity_detection"]
    detected = realised_passes(draws["decay"], state["identity_stock"], detection)
    stock = state["identity_stock"] - detected
    power_of = power_function(state, params, params["whale_stake_age"] + state["proposals"])
    bought = _buy(state, params, rule, others, base_pass, prefs, supply, draws, power_of, stock)
    votes_yes = ~prefs["utility_pass"]
    own = _side(bought["power"], bought["tokens"], votes_yes)
    with_own = combine(others, own)
    borrowed = np.zeros(len(tokens))
    if params["rule"] in BORROW_RULES:
        passes_with_own = decide(with_own["yes"], with_own["no"], with_own["cast"], with_own["against"], supply,
                                 rule["quorum"], rule["pass_threshold"], rule["veto_threshold"])
        per_token = stake_age_multiplier(0.0, params["stake_age_alpha"]) if params["rule"] == "stake_age" else np.ones(len(tokens))
        vetoed = others["against"] > rule["veto_threshold"] * supply
        need = tokens_to_borrow(passes_with_own, prefs["utility_pass"], vetoed, with_own, supply, {**params, **rule},
                                per_token)
        fee = params["borrow_fee"] * np.where(np.isfinite(need), need, 0.0)
        ok = present & np.isfinite(need) & (need <= params["borrow_limit"] * supply) & (fee < params["attack_value"]) \
            & (fee <= tokens - bought["slashed"])
        borrowed = np.where(ok, need, 0.0)
        own = _side(bought["power"] + borrowed * per_token, bought["tokens"] + borrowed, votes_yes)
    fee = params["borrow_fee"] * borrowed
    first = state["proposals"] == 0
    capital = np.where(present, params["capital_rate"] * tokens
                       + np.where(first, params["price_impact"] * np.square(tokens) / (2.0 * supply), 0.0), 0.0)
    return {
        "tally": own,
        "power": own["yes"] + own["no"],
        "k": bought["k"],
        "stock": bought["stock"],
        "fake_votes": bought["fake_votes"],
        "sybil_gain": bought["gain"],
        "slashed": bought["slashed"],
        "borrowed": borrowed,
        "fee": fee,
        "identity_spend": bought["spend"],
        "capital": capital,
        "outlay": bought["spend"] + bought["slashed"] + fee + capital,
    }


def p_vote(params, substep, history, state, *args) -> dict[str, np.ndarray]:
    """Draw one proposal, let everyone vote, and report the counters' increments (see module docs).

    Besides the outcome, two counterfactuals on the same draws and the same state: the whales as
    drawn but no attacker (``base``), and the baseline with no adversary at all (whales voting with
    the community, no attacker; ``clean``). Their differences attribute capture to the whale and
    the Sybil channel exactly (common random numbers within the run).
    """
    rng = params["rng"]
    n_community = state["delegate_of"].shape[1]
    draws = draw_proposal(rng, n_community)
    prefs = community_preferences(draws, params)
    whales_oppose = draws["whale"] < params["whale_opposition"]
    votes = holder_votes(state, params, prefs, draws["turnout"], prefs["utility_pass"] != whales_oppose)
    community = side_totals(votes, slice(0, n_community))
    whales = side_totals(votes, slice(n_community, None))
    n_whales = votes["stake"].shape[1] - n_community
    # the whales' tally had they voted with the community (only their columns are read)
    friendly = side_totals({**{k: votes[k][:, n_community:] for k in ("power", "stake", "cast")},
                            "yes": np.repeat(prefs["utility_pass"][:, None], n_whales, axis=1)}, slice(None))
    supply = state["balances"].sum(axis=1) + state["attacker_tokens"]
    rule = decision_params(params)
    thresholds = (supply, rule["quorum"], rule["pass_threshold"], rule["veto_threshold"])

    def outcome(t):
        return decide(t["yes"], t["no"], t["cast"], t["against"], *thresholds)

    others = combine(community, whales)
    base_pass = outcome(others)
    clean_pass = outcome(combine(community, friendly))
    attacker = attacker_vote(state, params, rule, others, base_pass, prefs, supply, draws)
    final_tally = combine(others, attacker["tally"])
    final = outcome(final_tally)
    without_whales = outcome(combine(community, attacker["tally"]))
    # a contest: the whales oppose a proposal the community would have decided its way without them
    whale_contested = whales_oppose & (n_whales > 0) & (without_whales == prefs["utility_pass"])
    captured = final != prefs["utility_pass"]
    flipped = final != base_pass
    n_holders = votes["power"].shape[1]
    cast_power = np.empty((len(final), n_holders + 1))
    # power times the cast mask: power is finite and non-negative under every rule, so this is
    # exactly np.where(cast, power, 0.0), in one pass instead of a masked copy
    np.multiply(votes["power"], votes["cast"], out=cast_power[:, :n_holders])
    cast_power[:, n_holders] = attacker["power"]
    return {
        "proposals": np.ones(len(final)),
        "captured": captured.astype(float),
        "captured_clean": (clean_pass != prefs["utility_pass"]).astype(float),
        "captured_whales": (base_pass != prefs["utility_pass"]).astype(float),
        "captured_headcount": (final != prefs["headcount_pass"]).astype(float),
        "whale_contested": whale_contested.astype(float),
        "whale_vetoed": (whale_contested & captured).astype(float),
        "attacker_flips": flipped.astype(float),
        "outlay": attacker["outlay"],
        "identity_spend": attacker["identity_spend"],
        "fake_votes": attacker["fake_votes"],
        "borrowed_sum": attacker["borrowed"],
        "capital_cost": attacker["capital"],
        "passed": final.astype(float),
        "turnout_sum": votes["represented"].mean(axis=1),
        **cast_power_counters(cast_power),
        "tokens_cast_sum": final_tally["cast"] / supply,
        "welfare_loss_sum": welfare_loss(captured, prefs["utility_total"], n_community),
        "identities_sum": attacker["k"],
        "sybil_gain_sum": attacker["sybil_gain"],
        "slashed": attacker["slashed"],
        "fee": attacker["fee"],
        "identity_stock": attacker["stock"],
        "credits_spent": votes["spent"],
    }
