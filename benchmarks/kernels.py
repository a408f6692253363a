"""Each model's hottest kernel in tokensim (numpy) against a compiled reference (numba) on identical
inputs, checked for equal results before any timing.

Run on demand (not part of pytest; numba is in the ``bench`` extra, ``pip install -e ".[bench]"``)::

    python benchmarks/kernels.py                 # all three kernels
    python benchmarks/kernels.py --only labeling --repeat 15

Kernels (the compiled versions are plain loops over the same arithmetic, written for this check):

labeling
    Dawid-Skene EM as the labeling model calls it (200 labelers, 200 tasks, 5 answers per task,
    4 classes, 5 iterations, carried soft counts, smoothing 0.01), on a chunk of ``B`` samples.
    Reported per label-iteration (one answer in one EM iteration), end to end (the whole call) and
    marginal (the cost of one more iteration). Check: identical labels, posteriors within 1e-10.
    tokensim's own log-space computation (``space="log"``: the E-step arithmetic before probability
    space, on the same blocks and answer structure as the default) is timed as well.
governance
    The per-member part of one proposal as governance 2.x runs it (``p_vote``'s preferences,
    turnout, the tallies of community, whales and the whales' no-adversary counterfactual, the power
    cast per entity with the attacker's, and its Gini, Nakamoto coefficient and top-10 share), 1,000
    members and 20 whales, rules ``token`` and ``quadratic`` (voice-credit spending), on the model's
    own state after 5 proposals, its next draws and the attacker's power as the model computes it.
    Both sides sort with numpy (see :func:`bench_governance`). Reported per member-proposal. Check:
    equal booleans and Nakamoto counts, sums within 1e-9 relative. The attacker's best response over
    the identity grid and the per-sample draws are not in the kernel.
inflation
    The economy step (:func:`tokensim.mechanisms.inflation.economy.economy_step`, the crash scenario) on
    ``B`` samples: 25, the chunk the runner picks for benchmarks/run.py's workload, and 1,000.
    Reported per sample-step. Check: every output within 1e-12 relative.

Timings are the minimum CPU time over ``--repeat`` interleaved calls (tokensim, compiled, tokensim,
...), with the load average before and after, because the machine is shared.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

try:
    import numba
    from numba import njit
except ImportError:  # pragma: no cover - the bench extra is missing
    raise SystemExit('benchmarks/kernels.py needs numba: pip install -e ".[bench]"') from None


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def best_of(fns: dict, repeat: int) -> dict[str, float]:
    """Minimum CPU time (``time.process_time``) of each zero-argument function, calls interleaved:
    on a shared machine the process's CPU time is disturbed far less than wall time."""
    best = {name: float("inf") for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.process_time()
            fn()
            best[name] = min(best[name], time.process_time() - start)
    return best


# ----------------------------------------------------------------------------- labeling

@njit(cache=False)
def ds_compiled(labels, workers, n_workers, k, n_iter, prior_counts, smoothing):
    """Dawid-Skene EM, probability space, one batch row at a time (the same algorithm as tokensim)."""
    batch, n_tasks, slots = labels.shape
    posteriors = np.empty((batch, n_tasks, k))
    counts = np.empty((n_workers, k, k))
    conf = np.empty((n_workers, k, k))
    prior = np.empty(k)
    for b in range(batch):
        post = posteriors[b]
        for t in range(n_tasks):  # majority-vote initialisation
            total = 0.0
            for c in range(k):
                post[t, c] = 0.0
            for s in range(slots):
                if labels[b, t, s] >= 0:
                    post[t, labels[b, t, s]] += 1.0
                    total += 1.0
            for c in range(k):
                post[t, c] = post[t, c] / total if total > 0 else 1.0 / k
        for it in range(n_iter + 1):
            for c in range(k):
                acc = 0.0
                for t in range(n_tasks):
                    acc += post[t, c]
                prior[c] = acc / n_tasks
            # M-step: soft counts plus carried counts, floored, normalised over answers
            counts[:] = prior_counts[b]
            for t in range(n_tasks):
                for s in range(slots):
                    lab = labels[b, t, s]
                    if lab >= 0:
                        w = workers[b, t, s]
                        for c in range(k):
                            counts[w, c, lab] += post[t, c]
            for w in range(n_workers):
                for c in range(k):
                    total = 0.0
                    for lab in range(k):
                        v = max(counts[w, c, lab], smoothing)
                        conf[w, c, lab] = v
                        total += v
                    for lab in range(k):
                        conf[w, c, lab] /= total
            if it == n_iter:
                break
            # E-step
            for t in range(n_tasks):
                total = 0.0
                for c in range(k):
                    like = max(prior[c], smoothing)
                    for s in range(slots):
                        lab = labels[b, t, s]
                        if lab >= 0:
                            like *= conf[workers[b, t, s], c, lab]
                    post[t, c] = like
                    total += like
                for c in range(k):
                    post[t, c] /= total
    return posteriors


def labeling_crowd(batch: int, n_tasks=200, per_task=5, n_workers=200, k=4, seed=1):
    """Answers of a mixed crowd (labeler skill 0.3-0.95) and carried soft counts, as in the model."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, (batch, n_tasks))
    workers = np.argsort(rng.random((batch, n_tasks, n_workers)), axis=2)[:, :, :per_task]
    skill = rng.uniform(0.3, 0.95, (batch, n_workers))
    right = rng.random((batch, n_tasks, per_task)) < skill[np.arange(batch)[:, None, None], workers]
    labels = np.where(right, truth[:, :, None], rng.integers(0, k, (batch, n_tasks, per_task)))
    prior = rng.gamma(1.0, 2.0, (batch, n_workers, k, k))
    return labels, workers, n_workers, k, prior


def bench_labeling(repeat: int, batches=(10, 200)) -> list[dict]:
    from tokensim.mechanisms.labeling.dawid_skene import dawid_skene

    out = []
    for batch in batches:
        labels, workers, n_workers, k, prior = labeling_crowd(batch)
        n_iter, smoothing = 5, 0.01
        ref = ds_compiled(labels, workers, n_workers, k, n_iter, prior, smoothing)
        ours = dawid_skene(labels, workers, n_workers, k, n_iter, prior_counts=prior, smoothing=smoothing)
        log = dawid_skene(labels, workers, n_workers, k, n_iter, prior_counts=prior, smoothing=smoothing, space="log")
        assert np.array_equal(ours.labels, ref.argmax(axis=-1)), "labels differ from the compiled reference"
        assert np.array_equal(ours.labels, log.labels), "labels differ from log space"
        diff = float(np.abs(ours.posteriors - ref).max())
        assert diff < 1e-10, diff
        fns = {}
        for iters in (n_iter, n_iter + 10):
            fns[f"tokensim_{iters}"] = (lambda i=iters: dawid_skene(labels, workers, n_workers, k, i, prior_counts=prior,
                                                                      smoothing=smoothing))
            fns[f"log_{iters}"] = (lambda i=iters: dawid_skene(labels, workers, n_workers, k, i, prior_counts=prior,
                                                               smoothing=smoothing, space="log"))
            fns[f"compiled_{iters}"] = lambda i=iters: ds_compiled(labels, workers, n_workers, k, i, prior, smoothing)
        before = load()
        best = best_of(fns, repeat)
        answers = int((labels >= 0).sum())
        row = {"kernel": "labeling", "batch": batch, "answers": answers, "iterations": n_iter,
               "max_posterior_diff": diff, "load_start": before, "load_end": load()}
        for name in ("tokensim", "log", "compiled"):
            row[f"{name}_ns"] = best[f"{name}_{n_iter}"] / (answers * n_iter) * 1e9
            row[f"{name}_marginal_ns"] = (best[f"{name}_{n_iter + 10}"] - best[f"{name}_{n_iter}"]) / (answers * 10) * 1e9
        out.append(row)
    return out


# ----------------------------------------------------------------------------- governance

RULE_CODES = {"token": 0, "quadratic": 1}
GOVERNANCE_OUTPUTS = ("utility_total", "headcount_pass", "utility_pass", "community_yes", "community_no",
                      "community_cast", "community_against", "whales_yes", "whales_no", "whales_cast",
                      "whales_against", "friendly_yes", "friendly_no", "turnout", "gini", "nakamoto", "top10")
GOVERNANCE_EXACT = ("headcount_pass", "utility_pass", "nakamoto")


@njit(cache=False, fastmath=False)
def members_compiled(rule, log_odds, spread, skew_scale, sigma, whale_opposition, remaining, mean_square,
                     support_z, skew_z, whale_u, favour, intensity_z, turnout_u, turnout_p, balances, credits,
                     attacker_power, out, cast_power):
    """Per sample, one pass over the members then one over the whales (rows are contiguous in
    every input), writing the tallies to ``out`` and the power cast per entity to ``cast_power``
    (unsorted; :func:`concentration_compiled` reads it after the sort). Branch-free selects (the
    draws make every branch a coin flip) and four partial sums per total (fastmath stays off, so
    LLVM may not reorder a sum itself; numpy's pairwise sums use eight)."""
    batch, n_comm = favour.shape
    n_all = balances.shape[1]
    for b in range(batch):
        support = 1.0 / (1.0 + np.exp(-(log_odds[b] + spread[b] * support_z[b])))
        side = np.exp(0.5 * skew_scale[b] * skew_z[b])
        later = (remaining[b] - 1.0) * mean_square[b]
        sg = sigma[b]
        # partial sums, four per total: favouring and opposing intensity, yes/no power, tokens cast/against
        pos, neg, cy, cn, cc, ca = np.zeros(4), np.zeros(4), np.zeros(4), np.zeros(4), np.zeros(4), np.zeros(4)
        heads = 0
        turned = 0
        for i in range(n_comm):
            k = i & 3
            yes = favour[b, i] < support
            inten = np.exp(sg * intensity_z[b, i])
            pos[k] += inten if yes else 0.0
            neg[k] += 0.0 if yes else inten
            heads += yes
            stake = balances[b, i]
            cast = turnout_u[b, i] < turnout_p[b, i]
            turned += cast
            if rule == 0:
                power = stake
            else:
                scaled = side * inten if yes else inten / side
                u2 = scaled * scaled
                denominator = u2 + later
                share = u2 / denominator if denominator > 0 else 1.0
                share = min(max(share, 0.0), 1.0)
                power = np.sqrt(max(credits[b, i] * share, 0.0))
            power = power if cast else 0.0
            st = stake if cast else 0.0
            cy[k] += power if yes else 0.0
            cn[k] += 0.0 if yes else power
            cc[k] += st
            ca[k] += 0.0 if yes else st
            cast_power[b, i] = power
        total = side * ((pos[0] + pos[1]) + (pos[2] + pos[3])) - ((neg[0] + neg[1]) + (neg[2] + neg[3])) / side
        utility_pass = total > 0
        whales_yes = utility_pass != (whale_u[b] < whale_opposition[b])
        w_power = 0.0
        w_cast = 0.0
        for i in range(n_comm, n_all):
            stake = balances[b, i]
            power = stake if rule == 0 else np.sqrt(max(credits[b, i] / remaining[b], 0.0))
            w_power += power
            w_cast += stake
            cast_power[b, i] = power
        cast_power[b, n_all] = attacker_power[b]
        out[b, 0] = total
        out[b, 1] = 1.0 if 2 * heads > n_comm else 0.0
        out[b, 2] = 1.0 if utility_pass else 0.0
        out[b, 3] = (cy[0] + cy[1]) + (cy[2] + cy[3])
        out[b, 4] = (cn[0] + cn[1]) + (cn[2] + cn[3])
        out[b, 5] = (cc[0] + cc[1]) + (cc[2] + cc[3])
        out[b, 6] = (ca[0] + ca[1]) + (ca[2] + ca[3])
        out[b, 7] = w_power if whales_yes else 0.0
        out[b, 8] = 0.0 if whales_yes else w_power
        out[b, 9] = w_cast
        out[b, 10] = 0.0 if whales_yes else w_cast
        out[b, 11] = w_power if utility_pass else 0.0
        out[b, 12] = 0.0 if utility_pass else w_power
        out[b, 13] = turned / n_comm


@njit(cache=False, fastmath=False)
def concentration_compiled(ascending, out):
    """Gini, Nakamoto coefficient and top-10 share of each row of sorted power (ascending)."""
    batch, n = ascending.shape
    for b in range(batch):
        total = 0.0
        weighted = 0.0
        for j in range(n):
            x = ascending[b, j]
            total += x
            weighted += (2.0 * (j + 1) - n - 1.0) * x
        out[b, 14] = weighted / (n * total) if total > 0 else 0.0
        count = 0
        if total > 0:
            acc = 0.0
            for j in range(n - 1, -1, -1):  # descending: the running share only grows
                acc += ascending[b, j] / total
                if acc > 0.5:
                    break
                count += 1
            count = min(count + 1, n)
        out[b, 15] = count
        top = 0.0
        for j in range(n - 1, max(n - 11, -1), -1):
            top += ascending[b, j]
        out[b, 16] = top / total if total > 0 else 0.0


def compiled_members(args):
    """The compiled reference end to end: the member pass, numpy's sort (see :func:`bench_governance`),
    the concentration pass."""
    batch, n_all = args[15].shape
    out = np.empty((batch, len(GOVERNANCE_OUTPUTS)))
    cast_power = np.empty((batch, n_all + 1))
    members_compiled(*args, out, cast_power)
    concentration_compiled(np.sort(cast_power, axis=1), out)
    return out


def governance_inputs(rule: str, batch: int = 60, n_community: int = 1000, n_whales: int = 20, warmup: int = 5):
    """The model's own state after ``warmup`` proposals, the next proposal's draws, and the attacker's
    power on them as the model computes it (the benchmark's sweep of whale_share, 10 samples per point)."""
    from tokensim.mechanisms.core import get_model, step
    from tokensim.mechanisms.core.cadcad_run import Batch, Row
    from tokensim.mechanisms.governance import policies as gp

    model = get_model("governance")
    rows = [Row(j, model.schema.resolve({"rule": rule, "n_community": n_community, "n_whales": n_whales,
                                         "whale_share": 0.5 * j / 19}), s)
            for j in range(-(-batch // 10)) for s in range(10)][:batch]
    params = Batch(tuple(rows)).cadcad_params(model, 2024, False)
    state = {**model.initial_state(params, params["rng"]), "substep": 0, "timestep": 0, "run": 1}
    for t in range(1, warmup + 1):
        state = step(model.blocks, params, state, t)
    draws = gp.draw_proposal(params["rng"], n_community)
    # the attacker's power on this proposal, by the model's own functions in p_vote's order
    prefs = gp.community_preferences(draws, params)
    whales_oppose = draws["whale"] < params["whale_opposition"]
    votes = gp.holder_votes(state, params, prefs, draws["turnout"], prefs["utility_pass"] != whales_oppose)
    others = gp.combine(gp.side_totals(votes, slice(0, n_community)), gp.side_totals(votes, slice(n_community, None)))
    supply = state["balances"].sum(axis=1) + state["attacker_tokens"]
    rule_in_force = gp.decision_params(params)
    base_pass = gp.decide(others["yes"], others["no"], others["cast"], others["against"], supply,
                          rule_in_force["quorum"], rule_in_force["pass_threshold"], rule_in_force["veto_threshold"])
    attacker = gp.attacker_vote(state, params, rule_in_force, others, base_pass, prefs, supply, draws)
    return params, state, draws, np.ascontiguousarray(attacker["power"])


def members_tokensim(params, state, draws, attacker_power):
    """tokensim's own functions for the per-member part of p_vote, in p_vote's order."""
    from tokensim.mechanisms.governance.metrics import cast_power_counters
    from tokensim.mechanisms.governance.policies import community_preferences, holder_votes, side_totals

    n_community = state["delegate_of"].shape[1]
    prefs = community_preferences(draws, params)
    whales_oppose = draws["whale"] < params["whale_opposition"]
    votes = holder_votes(state, params, prefs, draws["turnout"], prefs["utility_pass"] != whales_oppose)
    community = side_totals(votes, slice(0, n_community))
    whales = side_totals(votes, slice(n_community, None))
    n_whales = votes["stake"].shape[1] - n_community
    friendly = side_totals({**{k: votes[k][:, n_community:] for k in ("power", "stake", "cast")},
                            "yes": np.repeat(prefs["utility_pass"][:, None], n_whales, axis=1)}, slice(None))
    n_holders = votes["power"].shape[1]
    cast_power = np.empty((len(attacker_power), n_holders + 1))
    np.multiply(votes["power"], votes["cast"], out=cast_power[:, :n_holders])
    cast_power[:, n_holders] = attacker_power
    counters = cast_power_counters(cast_power)
    return np.stack([prefs["utility_total"], prefs["headcount_pass"], prefs["utility_pass"],
                     community["yes"], community["no"], community["cast"], community["against"],
                     whales["yes"], whales["no"], whales["cast"], whales["against"], friendly["yes"], friendly["no"],
                     votes["represented"].mean(axis=1), counters["gini_sum"], counters["nakamoto_sum"],
                     counters["top10_sum"]], axis=1).astype(float)


def compiled_args(rule, params, state, draws, attacker_power):
    """The compiled kernel's arguments: the same parameters, state and draws, as contiguous arrays."""
    from tokensim.mechanisms.governance.policies import mean_square_intensity, proposals_left_in_period

    def c(x):
        return np.ascontiguousarray(np.asarray(x, dtype=float))

    size = len(attacker_power)
    support_mean = params["support_mean"]
    return (RULE_CODES[rule], c(np.log(support_mean / (1.0 - support_mean))), c(params["support_spread"]),
            c(params["intensity_skew"]), c(params["intensity_sigma"]), c(params["whale_opposition"]),
            c(np.broadcast_to(proposals_left_in_period(state, params), (size,))), c(mean_square_intensity(params)),
            c(draws["support"]), c(draws["skew"]), c(draws["whale"]), c(draws["favour"]), c(draws["intensity"]),
            c(draws["turnout"]), c(state["turnout_probability"]), c(state["balances"]), c(state["voice_credits"]),
            c(attacker_power))


def check_governance(ours, ref) -> None:
    """Booleans and counts equal; sums (and the Gini, top-10 share and turnout) within 1e-9 relative."""
    exact = [GOVERNANCE_OUTPUTS.index(k) for k in GOVERNANCE_EXACT]
    np.testing.assert_array_equal(ours[:, exact], ref[:, exact])
    rest = [j for j in range(len(GOVERNANCE_OUTPUTS)) if j not in exact]
    np.testing.assert_allclose(ours[:, rest], ref[:, rest], rtol=1e-9, atol=0)


def bench_governance(repeat: int, batch: int = 60) -> list[dict]:
    """tokensim vs the compiled reference on the per-member part of ``p_vote``.

    The kernel, as the governance 2.1 profile shows it (1,000 members, 20 whales, the benchmark's
    sweep of ``whale_share``; about 40% of a run, the per-sample draws about 30% more, the attacker's
    best response over the identity grid about 16%): community preferences (support in log-odds, who
    favours, lognormal intensity, utility-weighted and head-count preference), turnout, the tallies of
    community, whales and the whales' no-adversary counterfactual (power and tokens; under
    ``quadratic`` each casting member's credit spending by ``qv_spend`` and the whales' even pacing),
    the power cast per entity with the attacker's, and its Gini, Nakamoto coefficient and top-10
    share. Inputs are the model's own state after 5 proposals, the next proposal's draws from its
    generators, and the attacker's power as the model computes it on them. Both sides sort the power
    cast with numpy's sort: numba's ``np.sort`` is about 20x slower than numpy's vectorised sort on
    these rows, and a reference slower than numpy bounds nothing. Reported per member-proposal.
    """
    out = []
    for rule in RULE_CODES:
        params, state, draws, attacker_power = governance_inputs(rule, batch)
        ours = members_tokensim(params, state, draws, attacker_power)
        args = compiled_args(rule, params, state, draws, attacker_power)
        ref = compiled_members(args)
        check_governance(ours, ref)
        before = load()
        best = best_of({"tokensim": lambda: members_tokensim(params, state, draws, attacker_power),
                        "compiled": lambda: compiled_members(args)}, repeat)
        per = batch * state["delegate_of"].shape[1]
        out.append({"kernel": "governance", "rule": rule, "batch": batch, "members": state["delegate_of"].shape[1],
                    "holders": state["balances"].shape[1], "tokensim_ns": best["tokensim"] / per * 1e9,
                    "compiled_ns": best["compiled"] / per * 1e9,
                    "ratio": best["tokensim"] / best["compiled"],
                    "check": "booleans and Nakamoto equal, sums within 1e-9 relative",
                    "load_start": before, "load_end": load()})
    return out


# ----------------------------------------------------------------------------- inflation

@njit(cache=False)
def economy_compiled(p, s, shocks, out):
    """economy_step for the crash scenario, one sample at a time; p and s are (B, fields) arrays."""
    for b in range(s.shape[0]):
        (usage_growth, usage_vol, staker_share, reward_sell, stake_speed, stake_noise, treasury_spend, burn_rate,
         spec_share, momentum_beta, momentum_days, pid_days, outside, premium, fear, max_ratio, sensitivity,
         shock_day, shock_depth, shock_duration, shock_recovery, recovery_days) = p[b]
        (day0, usage0, supply0, circ0, staked0, treasury0, minted0, burned0, price0, momentum0, ema0, rate,
         peak, demand_scale) = s[b]
        day = day0 + 1
        usage = usage0 * np.exp(usage_growth / 365.0 + usage_vol * shocks[b, 0])
        minted = rate * supply0 / 365.0
        rewards = staker_share * minted
        sold_rewards = reward_sell * rewards
        yld = rate * supply0 * staker_share / max(staked0, 1e-12 * supply0)
        required = outside + premium + fear * (1.0 - price0 / peak)
        desired = max_ratio / (1.0 + np.exp(-sensitivity * (yld - required)))
        staked = staked0 + (rewards - sold_rewards)
        flow = stake_speed * (desired * supply0 - staked) + stake_noise * staked * shocks[b, 1]
        circ = circ0 + sold_rewards
        flow = min(max(flow, -staked), circ)
        staked = staked + flow
        treasury = treasury0 + (minted - rewards)
        sold = min(treasury, treasury_spend / price0)
        treasury -= sold
        since = day - shock_day
        drop = shock_depth * min(max(since / shock_duration, 0.0), 1.0)
        back = shock_depth * shock_recovery * min(max((since - shock_duration) / recovery_days, 0.0), 1.0)
        use_demand = demand_scale * usage * (1.0 - drop + back)
        circ = circ - flow + sold
        burned = min(burn_rate * use_demand / 365.0 / price0, 0.5 * circ)
        circ -= burned
        supply = supply0 + minted - burned
        demand = use_demand * (1.0 + spec_share * (1.0 + np.tanh(momentum_beta * momentum0)))
        price = demand / max(circ, 1e-12 * supply)
        log_return = np.log(price / price0)
        out[b, 0] = usage
        out[b, 1] = supply
        out[b, 2] = circ
        out[b, 3] = staked
        out[b, 4] = treasury
        out[b, 5] = minted0 + minted
        out[b, 6] = burned0 + burned
        out[b, 7] = price
        out[b, 8] = momentum0 + (log_return - momentum0) / momentum_days
        out[b, 9] = ema0 + (price - ema0) / pid_days
    return out


P_FIELDS = ("usage_growth", "usage_vol", "staker_share", "reward_sell_share", "stake_speed", "stake_noise",
            "treasury_spend_usd", "burn_rate", "spec_share", "momentum_beta", "momentum_days", "pid_price_days",
            "outside_rate", "risk_premium", "fear", "max_stake_ratio", "stake_sensitivity", "shock_day", "shock_depth",
            "shock_duration", "shock_recovery", "recovery_days")
S_FIELDS = ("day", "usage", "supply", "circulating", "staked", "treasury", "minted", "burned", "price", "momentum",
            "price_ema", "inflation_rate", "peak_price", "demand_scale")
OUT_FIELDS = ("usage", "supply", "circulating", "staked", "treasury", "minted", "burned", "price", "momentum", "price_ema")


def workload_batch() -> int:
    """Rows per chunk that the runner picks for benchmarks/run.py's inflation workload (1,000 runs of
    10,000 holders): the batch the economy step really sees."""
    from benchmarks.run import Workload
    from tokensim.experiments.runner import plan_chunks

    spec = Workload("inflation", agents=10_000, points=20, samples=50, timesteps=365, chunk_size=None).spec()
    return len(plan_chunks(spec, spec.points())[0].rows)


def bench_inflation(repeat: int, batches=None) -> list[dict]:
    """The economy step at a small batch (25), at the benchmark workload's chunk and at 1,000 rows."""
    from tokensim.mechanisms.core import get_model
    from tokensim.mechanisms.core.cadcad_run import Batch, Row
    from tokensim.mechanisms.inflation.economy import economy_step

    model = get_model("inflation")
    point = model.schema.resolve({"scenario": "crash"})
    out = []
    for batch in batches or (25, workload_batch(), 1000):
        params = Batch(tuple(Row(0, point, s) for s in range(batch))).cadcad_params(model, 5, False)
        state = model.initial_state(params, params["rng"])
        state = {**state, "day": np.full(batch, 30.0)}  # inside the crash
        shocks = params["rng"].normal(size=2)
        cols = lambda src, names: np.stack([np.broadcast_to(np.asarray(src[n], dtype=float), (batch,))  # noqa: E731
                                            for n in names], axis=1)
        p, s = cols(params, P_FIELDS), cols(state, S_FIELDS)
        buffer = np.empty((batch, len(OUT_FIELDS)))
        ours = economy_step(params, state, shocks)
        ref = economy_compiled(p, s, shocks, buffer)
        np.testing.assert_allclose(np.stack([ours[n] for n in OUT_FIELDS], axis=1), ref, rtol=1e-12, atol=0)
        before = load()
        best = best_of({"tokensim": lambda: economy_step(params, state, shocks),
                        "compiled": lambda: economy_compiled(p, s, shocks, buffer)}, repeat)
        out.append({"kernel": "inflation", "batch": batch, "tokensim_ns": best["tokensim"] / batch * 1e9,
                    "compiled_ns": best["compiled"] / batch * 1e9, "load_start": before, "load_end": load()})
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="labeling,governance,inflation")
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results_kernels.json"))
    args = parser.parse_args(argv)
    benches = {"labeling": bench_labeling, "governance": bench_governance, "inflation": bench_inflation}
    store = Path(args.out)
    results = json.loads(store.read_text()) if store.exists() else {}
    for name in args.only.split(","):
        rows = benches[name](args.repeat)
        for row in rows:
            print(json.dumps({k: (round(v, 2) if isinstance(v, float) else v) for k, v in row.items()}), flush=True)
        results[name] = {"rows": rows, "numba": numba.__version__, "numpy": np.__version__,
                         "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
        store.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
