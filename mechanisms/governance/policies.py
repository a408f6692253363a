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
3. Turnout: a community wallet votes with probability ``base_turnout * s / (s + participation_cost)``
   for stake ``s``. Under the ``delegated`` rule delegators' tokens are voted by their delegate,
   and a delegate holding delegated tokens always votes.
4. The attacker sees everyone else's tally, picks its number of identities by best response
   (:mod:`mechanisms.governance.sybil`) and votes against the community.
5. The outcome, and the outcomes without the whales and without the attacker (to attribute vetoes
   and flips), by :func:`mechanisms.governance.voting.decide`.

Utility is per person, not per token: the community's will is that of its members. Whales and the
attacker are outside the community whose welfare is measured.
"""
from __future__ import annotations

from functools import partial
from typing import Any, Mapping

import numpy as np

from mechanisms.core.stats import gini, nakamoto

from .state import fake_pass_probability
from .sybil import (
    attacker_power_each, best_response, identities_needed, identity_grid, realised_passes, tail_offsets, split_weights,
)
from .voting import conviction_multiplier, decide, delegate_stake, identity_power, tally


def draw_proposal(rng, n_community: int) -> dict[str, np.ndarray]:
    """All random draws of one proposal, in a fixed order that no parameter changes."""
    return {
        "support": rng.normal(),
        "skew": rng.normal(),
        "whale": rng.random(),
        "sybil": rng.random(),
        "favour": rng.random(size=n_community),
        "intensity": rng.normal(size=n_community),
        "turnout": rng.random(size=n_community),
    }


def community_preferences(draws: Mapping[str, np.ndarray], params: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Who favours the proposal, each member's utility, and both community preferences."""
    logit = np.log(params["support_mean"] / (1.0 - params["support_mean"])) + params["support_spread"] * draws["support"]
    support = 1.0 / (1.0 + np.exp(-logit))
    yes = draws["favour"] < support[:, None]
    side = np.exp(0.5 * params["intensity_skew"] * draws["skew"])
    intensity = np.exp(params["intensity_sigma"][:, None] * draws["intensity"])
    total = side * (intensity * yes).sum(axis=1) - (intensity * ~yes).sum(axis=1) / side
    return {
        "yes": yes,
        "utility_total": total,
        "utility_pass": total > 0,
        "headcount_pass": 2 * yes.sum(axis=1) > yes.shape[1],
    }


def holder_votes(state, params, prefs, turnout_draw, whales_yes) -> dict[str, np.ndarray]:
    """Stake voted, power, who casts and which way, for community wallets then whales."""
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
    multiplier = 1.0
    if params["rule"] == "conviction":
        age = state["first_stake_age"] + state["proposals"][:, None]
        multiplier = conviction_multiplier(age, params["conviction_alpha"][:, None])
    return {
        "stake": stake,
        "power": identity_power(stake, params["rule"], multiplier),
        "cast": np.concatenate([cast, np.ones((len(balances), n_whales), dtype=bool)], axis=1),
        "yes": np.concatenate([prefs["yes"], np.repeat(whales_yes[:, None], n_whales, axis=1)], axis=1),
        "represented": represented,
    }


def side_totals(votes: Mapping[str, np.ndarray], columns: slice) -> dict[str, np.ndarray]:
    """Yes/no power and tokens cast/against by the holders in ``columns``."""
    power, stake = votes["power"][:, columns], votes["stake"][:, columns]
    cast, yes = votes["cast"][:, columns], votes["yes"][:, columns]
    yes_power, no_power = tally(power, cast, yes)
    yes_tokens, no_tokens = tally(stake, cast, yes)
    return {"yes": yes_power, "no": no_power, "cast": yes_tokens + no_tokens, "against": no_tokens}


def combine(*parts: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Element-wise sum of tallies."""
    return {key: sum(part[key] for part in parts) for key in parts[0]}


def attacker_vote(state, params, others, base_pass, prefs, supply, draw) -> dict[str, np.ndarray]:
    """The attacker's best-response split, its realised vote against the community, and its outlay."""
    size = len(supply)
    tokens, grid, tail = state["attacker_tokens"], identity_grid(params["max_identities"]), state["pass_tail"]
    offsets = tail_offsets(grid)
    multiplier = 1.0
    if params["rule"] == "conviction":
        age = params["whale_stake_age"] + state["proposals"]
        multiplier = conviction_multiplier(age, params["conviction_alpha"])
    power_each, tokens_each = attacker_power_each(tokens, grid, params["rule"], multiplier)
    vetoed = others["against"] > params["veto_threshold"] * supply
    mult = np.asarray(multiplier, dtype=float)
    weights = partial(split_weights, tokens[:, None], grid[None, :], rule=params["rule"],
                      multiplier=mult[:, None] if mult.ndim else mult)
    needed = identities_needed(base_pass, prefs["utility_pass"], vetoed, others["yes"], others["no"],
                               others["cast"], others["against"], supply, params, power_each, tokens_each, weights)
    q = fake_pass_probability(params, size)
    choice = best_response(needed, grid, tail, offsets, q, tokens, params)
    passes = realised_passes(draw, choice["index"], grid, tail, offsets)
    identities_voting = 1.0 + passes
    k = choice["k"].astype(float)
    power, tokens_voting = split_weights(tokens, k, identities_voting, params["rule"], multiplier)
    slashed = float(params["slash_detected"]) * (tokens * ((k - identities_voting) / k))
    votes_yes = ~prefs["utility_pass"]
    return {
        "tally": {
            "yes": np.where(votes_yes, power, 0.0),
            "no": np.where(votes_yes, 0.0, power),
            "cast": tokens_voting,
            "against": np.where(votes_yes, 0.0, tokens_voting),
        },
        "power": power,
        "k": k,
        "sybil_gain": choice["sybil_gain"],
        "slashed": slashed,
        "outlay": (choice["k"] - 1) * params["identity_cost"] + slashed,
    }


def p_vote(params, substep, history, state, *args) -> dict[str, np.ndarray]:
    """Draw one proposal, let everyone vote, and report the counters' increments (see module docs)."""
    rng = params["rng"]
    n_community = state["delegate_of"].shape[1]
    draws = draw_proposal(rng, n_community)
    prefs = community_preferences(draws, params)
    whales_oppose = draws["whale"] < params["whale_opposition"]
    votes = holder_votes(state, params, prefs, draws["turnout"], prefs["utility_pass"] != whales_oppose)
    community = side_totals(votes, slice(0, n_community))
    whales = side_totals(votes, slice(n_community, None))
    supply = state["balances"].sum(axis=1) + state["attacker_tokens"]
    rule = (supply, params["quorum"], params["pass_threshold"], params["veto_threshold"])

    def outcome(t):
        return decide(t["yes"], t["no"], t["cast"], t["against"], *rule)

    others = combine(community, whales)
    base_pass = outcome(others)
    attacker = attacker_vote(state, params, others, base_pass, prefs, supply, draws["sybil"])
    final = outcome(combine(others, attacker["tally"]))
    without_whales = outcome(combine(community, attacker["tally"]))
    n_whales = votes["stake"].shape[1] - n_community
    # a contest: the whales oppose a proposal the community would have decided its way without them
    whale_contested = whales_oppose & (n_whales > 0) & (without_whales == prefs["utility_pass"])
    captured = final != prefs["utility_pass"]
    flipped = final != base_pass
    cast_power = np.concatenate([np.where(votes["cast"], votes["power"], 0.0), attacker["power"][:, None]], axis=1)
    return {
        "proposals": np.ones(len(final)),
        "captured": captured.astype(float),
        "captured_headcount": (final != prefs["headcount_pass"]).astype(float),
        "whale_contested": whale_contested.astype(float),
        "whale_vetoed": (whale_contested & captured).astype(float),
        "attacker_flips": flipped.astype(float),
        "flip_outlay": np.where(flipped, attacker["outlay"], 0.0),
        "passed": final.astype(float),
        "turnout_sum": votes["represented"].mean(axis=1),
        "gini_sum": gini(cast_power),
        "nakamoto_sum": nakamoto(cast_power).astype(float),
        "welfare_loss_sum": np.where(captured, np.abs(prefs["utility_total"]), 0.0) / n_community,
        "identities_sum": attacker["k"],
        "sybil_gain_sum": attacker["sybil_gain"],
        "slashed": attacker["slashed"],
    }
