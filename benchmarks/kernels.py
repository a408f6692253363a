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
    The per-member part of one proposal (``p_vote``'s preferences, turnout, tallies of community
    and whales, Gini and Nakamoto of the power cast), 1,000 members and 20 whales, rules ``token``
    and ``quadratic``, on the draws and state of the model. Reported per member-proposal. Check:
    equal booleans and counts, sums within 1e-9 relative. The attacker's best response is not in
    the kernel (see docs/scale.md for the numpy fixes listed for it).
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


@njit(cache=False)
def members_compiled(rule, support_mean, spread, skew_scale, sigma, support_z, skew_z, favour, intensity_z,
                     turnout_u, turnout_p, balances, whales_yes, attacker_power):
    batch, n_comm = favour.shape
    n_all = balances.shape[1]
    out = np.empty((batch, 8))
    cast_power = np.empty(n_all + 1)
    for b in range(batch):
        logit = np.log(support_mean[b] / (1.0 - support_mean[b])) + spread[b] * support_z[b]
        support = 1.0 / (1.0 + np.exp(-logit))
        side = np.exp(0.5 * skew_scale[b] * skew_z[b])
        pos = 0.0
        neg = 0.0
        heads = 0
        yes_p = 0.0
        no_p = 0.0
        cast_t = 0.0
        against = 0.0
        for i in range(n_all):
            if i < n_comm:
                yes = favour[b, i] < support
                inten = np.exp(sigma[b] * intensity_z[b, i])
                if yes:
                    pos += inten
                    heads += 1
                else:
                    neg += inten
                cast = turnout_u[b, i] < turnout_p[b, i]
            else:
                yes = whales_yes[b]
                cast = True
            stake = balances[b, i]
            power = stake if rule == 0 else np.sqrt(stake)
            if cast:
                cast_power[i] = power
                cast_t += stake
                if yes:
                    yes_p += power
                else:
                    no_p += power
                    against += stake
            else:
                cast_power[i] = 0.0
        cast_power[n_all] = attacker_power[b]
        x = np.sort(cast_power)
        n = x.size
        total = 0.0
        weighted = 0.0
        for j in range(n):
            total += x[j]
            weighted += (2.0 * (j + 1) - n - 1.0) * x[j]
        gini = weighted / (n * total) if total > 0 else 0.0
        acc = 0.0
        count = 0
        for j in range(n - 1, -1, -1):
            acc += x[j] / total if total > 0 else 0.0
            if acc <= 0.5:
                count += 1
        naka = min(count + 1, n) if total > 0 else 0
        out[b, 0] = side * pos - neg / side
        out[b, 1] = 2 * heads > n_comm
        out[b, 2] = yes_p
        out[b, 3] = no_p
        out[b, 4] = cast_t
        out[b, 5] = against
        out[b, 6] = gini
        out[b, 7] = naka
    return out


def governance_inputs(rule: str, batch: int, n_community: int = 1000, n_whales: int = 20):
    from tokensim.mechanisms.core import get_model
    from tokensim.mechanisms.core.cadcad_run import Batch, Row
    from tokensim.mechanisms.governance.policies import draw_proposal

    model = get_model("governance")
    point = model.schema.resolve({"rule": rule, "n_community": n_community, "n_whales": n_whales, "whale_share": 0.3})
    params = Batch(tuple(Row(0, point, s) for s in range(batch))).cadcad_params(model, 7, False)
    state = model.initial_state(params, params["rng"])
    draws = draw_proposal(params["rng"], n_community)
    attacker_power = params["rng"].random() * 50.0
    return params, state, draws, attacker_power


def members_tokensim(params, state, draws, attacker_power):
    """tokensim's own functions for the same part of p_vote, in p_vote's order."""
    from tokensim.mechanisms.core.stats import gini, nakamoto
    from tokensim.mechanisms.governance.policies import (
        community_preferences,
        holder_votes,
        side_totals,
    )

    n_community = state["delegate_of"].shape[1]
    prefs = community_preferences(draws, params)
    whales_yes = ~prefs["utility_pass"]
    votes = holder_votes(state, params, prefs, draws["turnout"], whales_yes)
    community = side_totals(votes, slice(0, n_community))
    whales = side_totals(votes, slice(n_community, None))
    cast_power = np.concatenate([np.where(votes["cast"], votes["power"], 0.0), attacker_power[:, None]], axis=1)
    return np.stack([prefs["utility_total"], prefs["headcount_pass"].astype(float), community["yes"] + whales["yes"],
                     community["no"] + whales["no"], community["cast"] + whales["cast"],
                     community["against"] + whales["against"], gini(cast_power),
                     nakamoto(cast_power).astype(float)], axis=1), whales_yes


def bench_governance(repeat: int, batch: int = 20) -> list[dict]:
    out = []
    for rule in RULE_CODES:
        params, state, draws, attacker_power = governance_inputs(rule, batch)
        ours, whales_yes = members_tokensim(params, state, draws, attacker_power)
        args = (RULE_CODES[rule], params["support_mean"], params["support_spread"], params["intensity_skew"],
                params["intensity_sigma"], np.asarray(draws["support"]), np.asarray(draws["skew"]), draws["favour"],
                draws["intensity"], draws["turnout"], state["turnout_probability"], state["balances"],
                whales_yes, attacker_power)
        ref = members_compiled(*args)
        np.testing.assert_array_equal(ours[:, [1, 7]], ref[:, [1, 7]])
        np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=0)
        before = load()
        best = best_of({"tokensim": lambda: members_tokensim(params, state, draws, attacker_power),
                        "compiled": lambda: members_compiled(*args)}, repeat)
        per = batch * state["balances"].shape[1]
        out.append({"kernel": "governance", "rule": rule, "batch": batch, "members": state["balances"].shape[1],
                    "tokensim_ns": best["tokensim"] / per * 1e9, "compiled_ns": best["compiled"] / per * 1e9,
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
    from tokensim.experiments.runner import plan_chunks
    from tokensim.experiments.spec import parse_spec

    spec = parse_spec({"model": "inflation", "samples": 50, "timesteps": 365, "fixed": {"n_holders": 10_000},
                       "sweep": {"burn_rate": [float(v) for v in np.linspace(0.0, 0.1, 20)]}}, "<kernels>")
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
