"""Outcome metrics of the labeling model, batched: inputs (B, ...) arrays, outputs (B,).

Every number the model reports is computed here, from the state and the epoch's record (what the
policies drew, answered and paid); the policies call :func:`epoch_metrics` and
:func:`population_metrics` and the state updates only store the results. Strategy codes live here
too, since every metric that splits rewards by labeler kind needs them.

Baselines: accuracy is reported against the *honest-crowd ceiling* on the same draws (the same
tasks, the same assigned identities and the same answer noise, every identity answering honestly
with its own skill, aggregated by the same rule with its own carried Dawid-Skene counts), and as a
mean over the last ``accuracy_window`` epochs, not a last-epoch snapshot. Reward shares are set
against each type's share of the effort spent.
"""
from __future__ import annotations

import numpy as np

from tokensim.mechanisms.core import Metric

HONEST, LAZY_CONSTANT, LAZY_RANDOM, CARTEL, SYBIL, COPYCAT, AI = 0, 1, 2, 3, 4, 5, 6
INDEPENDENT = (HONEST, LAZY_CONSTANT, LAZY_RANDOM, AI)  # may switch strategy by imitation
GROUPS = (CARTEL, SYBIL, COPYCAT)  # identities of one operator each; keep their role
LAZY = (LAZY_CONSTANT, LAZY_RANDOM)
TYPES = {"honest": (HONEST,), "lazy": LAZY, "cartel": (CARTEL,), "sybil": (SYBIL,), "copycat": (COPYCAT,),
         "ai": (AI,)}
EFFORT_TYPES = ("honest", "copycat", "ai")  # the types that spend effort on ordinary tasks
AUDIT, COPY = 0, 1  # validator modes

SHARE = (0.0, 1.0)


def _m(name, description, unit="share", better="", bounds=SHARE):
    return Metric(name, description, unit, "last", better, bounds)


METRICS = (
    _m("accuracy_majority", "share of tasks whose majority-vote label is right, mean over the last "
       "accuracy_window epochs", better="higher"),
    _m("accuracy_dawid_skene", "share of tasks whose Dawid-Skene label is right, mean over the last "
       "accuracy_window epochs", better="higher"),
    _m("ceiling_majority", "accuracy_majority of an all-honest crowd of the same size on the same draws"),
    _m("ceiling_dawid_skene", "accuracy_dawid_skene of an all-honest crowd of the same size on the same draws"),
    _m("relative_accuracy", "Dawid-Skene accuracy over the honest-crowd ceiling, last accuracy_window epochs",
       "ratio", "higher", None),
    _m("relative_accuracy_majority", "majority-vote accuracy over the honest-crowd ceiling, last "
       "accuracy_window epochs", "ratio", "higher", None),
    _m("cost_per_correct_label", "tokens paid so far per task labeled correctly (Dawid-Skene)", "tokens/label",
       "lower", None),
    *(_m(f"reward_share_{t}", f"share of the epoch's rewards (labelers and validators) paid to {t} labelers"
         + (" (with the cartel's validator)" if t == "cartel" else ""), better="lower" if t != "honest" else "")
      for t in TYPES),
    *(_m(f"effort_share_{t}", f"share of the epoch's labeling effort (tokens) spent by {t} labelers")
      for t in EFFORT_TYPES),
    _m("reward_effort_gap", "total-variation distance between labelers' reward shares and effort shares by type "
       "(0 = pay follows effort)", better="lower"),
    _m("participation", "share of identities active", better="higher"),
    _m("share_lazy_labelers", "share of active identities that are lazy", better="lower"),
    _m("share_ai_labelers", "share of active identities that are AI labelers"),
    _m("share_copying_validators", "share of honest validators that copy last epoch's consensus (yuma rule)",
       better="lower"),
    _m("audit_spend", "tokens honest validators spent on audits this epoch (yuma rule)", "tokens", "", None),
    _m("gini_rewards", "Gini coefficient of the epoch's rewards among active labelers"),
    _m("reward_correct_corr", "correlation across identities of rewards and correct labels, so far", "",
       "higher", (-1.0, 1.0)),
    _m("best_response_gain", "largest mean one-epoch profit gain of an independent labeler type from switching "
       "strategy, others fixed (equilibrium_check; <= 0 at an equilibrium)", "tokens/epoch", "", None),
    _m("best_response_gain_honest", "best_response_gain for honest labelers", "tokens/epoch", "", None),
    _m("correct_labels", "tasks labeled correctly (Dawid-Skene) so far", "tasks", "higher", None),
    _m("minted", "tokens minted so far", "tokens", "", None),
    _m("paid_out", "tokens paid so far: labelers, validators, subnet owner and gold-label makers", "tokens", "",
       None),
    _m("paid_validators", "tokens paid to validators as dividends so far", "tokens", "", None),
    _m("paid_owner", "tokens paid to the subnet owner so far (yuma rule)", "tokens", "", None),
    _m("paid_gold", "tokens paid for making gold labels so far (gold rule)", "tokens", "", None),
    _m("treasury", "minted tokens not paid out (no eligible recipient)", "tokens", "", None),
    _m("burned", "stake slashed and burned so far", "tokens", "", None),
    _m("stake_locked", "stake currently locked by active labelers", "tokens", "", None),
    _m("stake_deposited", "stake deposited so far (joins and top-ups)", "tokens", "", None),
    _m("stake_returned", "stake returned to labelers who left", "tokens", "", None),
)


def type_mask(strategy: np.ndarray, kind: str) -> np.ndarray:
    return np.isin(strategy, TYPES[kind])


def strategy_share(strategy: np.ndarray, active: np.ndarray, codes) -> np.ndarray:
    """Share of active identities whose strategy is one of ``codes``."""
    hit = np.isin(strategy, codes) & active
    return hit.sum(axis=1) / np.maximum(active.sum(axis=1), 1)


def group_share(amounts: np.ndarray, mask: np.ndarray, extra: np.ndarray | float, total: np.ndarray) -> np.ndarray:
    """(Sum of ``amounts`` where ``mask``, plus ``extra``) / ``total``; NaN when nothing was paid."""
    part = np.where(mask, amounts, 0.0).sum(axis=1) + extra
    return np.where(total > 0, part / np.where(total > 0, total, 1.0), np.nan)


def masked_gini(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Gini coefficient of ``values`` over the entries where ``mask`` is True, per row.

    Same sorted-rank formula as :func:`tokensim.mechanisms.core.stats.gini`, restricted to the masked
    entries (masked-out entries are sorted to the end and given zero weight).
    """
    n = mask.sum(axis=1)
    x = np.sort(np.where(mask, values, np.inf), axis=1)
    valid = np.isfinite(x)
    x = np.where(valid, x, 0.0)
    ranks = 2.0 * np.arange(1, values.shape[1] + 1)[None, :] - n[:, None] - 1.0
    total = x.sum(axis=1)
    weighted = (x * np.where(valid, ranks, 0.0)).sum(axis=1)
    ok = (total > 0) & (n > 0)
    return np.where(ok, weighted / np.where(ok, n * total, 1.0), 0.0)


def row_correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of two (B, N) arrays per row; 0 when either row is constant."""
    da = a - a.mean(axis=1, keepdims=True)
    db = b - b.mean(axis=1, keepdims=True)
    denom = np.sqrt((da * da).sum(axis=1) * (db * db).sum(axis=1))
    return np.where(denom > 0, (da * db).sum(axis=1) / np.where(denom > 0, denom, 1.0), 0.0)


# columns of the accuracy window: correct tasks by majority vote, by Dawid-Skene, and the
# honest ceiling's of both, then tasks demanded
MV, DS, CEIL_MV, CEIL_DS, TASKS = range(5)


def accuracy_counts(truth, demanded, majority, dawid_skene, ceiling_majority, ceiling_dawid_skene) -> np.ndarray:
    """This epoch's (B, 5) counts: demanded tasks right by each aggregate, then tasks demanded."""
    right = [((labels == truth) & demanded).sum(axis=1)
             for labels in (majority, dawid_skene, ceiling_majority, ceiling_dawid_skene)]
    return np.stack([*right, demanded.sum(axis=1)], axis=1).astype(float)


def push_window(window: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The (B, K, 5) window of per-epoch counts with this epoch's (B, 5) counts in front."""
    return np.concatenate([counts[:, None, :], window[:, :-1, :]], axis=1)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def window_accuracies(window: np.ndarray) -> dict[str, np.ndarray]:
    """Accuracies and relative accuracies over the epochs held in the window (pooled counts)."""
    total = window.sum(axis=1)  # (B, 5)
    tasks = total[:, TASKS]
    return {
        "accuracy_majority": _ratio(total[:, MV], tasks),
        "accuracy_dawid_skene": _ratio(total[:, DS], tasks),
        "ceiling_majority": _ratio(total[:, CEIL_MV], tasks),
        "ceiling_dawid_skene": _ratio(total[:, CEIL_DS], tasks),
        "relative_accuracy": _ratio(total[:, DS], total[:, CEIL_DS]),
        "relative_accuracy_majority": _ratio(total[:, MV], total[:, CEIL_MV]),
    }


def reward_metrics(strategy: np.ndarray, active: np.ndarray, payments: np.ndarray, validator_payments: np.ndarray,
                   effort: np.ndarray) -> dict[str, np.ndarray]:
    """Reward shares by type, effort shares, their gap, and the Gini of labelers' rewards."""
    total = payments.sum(axis=1) + validator_payments.sum(axis=1)
    out = {}
    for kind in TYPES:
        extra = validator_payments[:, 0] if kind == "cartel" else 0.0  # validator 0 is the cartel's
        out[f"reward_share_{kind}"] = group_share(payments, type_mask(strategy, kind), extra, total)
    labeler_total, effort_total = payments.sum(axis=1), effort.sum(axis=1)
    gap = np.zeros(len(strategy))
    for kind in TYPES:
        mask = type_mask(strategy, kind)
        effort_share = group_share(effort, mask, 0.0, effort_total)
        if kind in EFFORT_TYPES:
            out[f"effort_share_{kind}"] = effort_share
        gap = gap + np.abs(group_share(payments, mask, 0.0, labeler_total) - effort_share)
    out["reward_effort_gap"] = 0.5 * gap
    out["gini_rewards"] = masked_gini(payments, active)
    return out


def deviation_gains(strategy: np.ndarray, target: np.ndarray, deviating: np.ndarray, gain: np.ndarray) -> dict:
    """One-step best response: per (type, alternative) the mean profit gain of the deviators.

    ``target`` (B, N) is each deviator's alternative strategy, ``gain`` its counterfactual profit
    minus its actual profit this epoch (same draws). Returns the largest mean gain over all pairs
    with at least one deviator, and over honest labelers' alternatives; NaN when there is none.
    """
    best = np.full(len(strategy), -np.inf)
    best_honest = best.copy()
    for x in INDEPENDENT:
        for y in INDEPENDENT:
            if x == y:
                continue
            pair = deviating & (strategy == x) & (target == y)
            count = pair.sum(axis=1)
            mean = np.where(count > 0, np.where(pair, gain, 0.0).sum(axis=1) / np.maximum(count, 1), -np.inf)
            best = np.maximum(best, mean)
            if x == HONEST:
                best_honest = np.maximum(best_honest, mean)
    return {"best_response_gain": np.where(np.isfinite(best), best, np.nan),
            "best_response_gain_honest": np.where(np.isfinite(best_honest), best_honest, np.nan)}


def cost_per_correct(paid_so_far: np.ndarray, correct_so_far: np.ndarray) -> np.ndarray:
    return _ratio(paid_so_far, correct_so_far)


def population_metrics(strategy: np.ndarray, active: np.ndarray, copying: np.ndarray) -> dict[str, np.ndarray]:
    """Who is active and doing what, after adaptation (honest validators are 1..V-1)."""
    return {
        "participation": active.mean(axis=1),
        "share_lazy_labelers": strategy_share(strategy, active, LAZY),
        "share_ai_labelers": strategy_share(strategy, active, (AI,)),
        "share_copying_validators": copying[:, 1:].mean(axis=1) if copying.shape[1] > 1 else np.zeros(len(copying)),
    }


def min_emission_for_target(emissions, relative_accuracy, target: float) -> float:
    """The least emission from which mean relative accuracy stays at or above ``target``.

    ``emissions`` (E,) sorted ascending and ``relative_accuracy`` (E,) their mean relative
    accuracies (same rule, same draws). Sustaining the target means reaching it at this budget and
    every larger one on the grid, so the answer is monotone in the target whatever noise the means
    carry; between the last failing and first sustaining grid points it is interpolated linearly.
    ``inf`` if even the largest budget falls short.
    """
    e = np.asarray(emissions, dtype=float)
    acc = np.asarray(relative_accuracy, dtype=float)
    if np.any(np.diff(e) <= 0):
        raise ValueError("emissions must be strictly increasing")
    # the running minimum from the top: the accuracy sustained at this budget and above
    sustained = np.minimum.accumulate(acc[::-1])[::-1]
    ok = sustained >= target
    if not ok[-1]:
        return float("inf")
    first = int(np.argmax(ok))
    if first == 0:
        return float(e[0])
    lo, hi = sustained[first - 1], sustained[first]
    frac = (target - lo) / (hi - lo) if hi > lo else 1.0
    return float(e[first - 1] + frac * (e[first] - e[first - 1]))


def min_emission_per_sample(runs, target: float, metric: str = "relative_accuracy", by: str = "reward_rule"):
    """Per ``by`` group and sample, :func:`min_emission_for_target` over the emission sweep.

    ``runs`` is a DataFrame with one row per run (columns ``by``, ``emission``, ``sample`` and
    ``metric``, e.g. the last timestep of a results.parquet). Under common random numbers sample
    ``s`` at every emission shares its draws, so each sample gives one search on one set of draws;
    the spread over samples is the interval. Returns a DataFrame (``by``, ``sample``,
    ``min_emission``), ``inf`` where the sample never sustains the target.
    """
    import pandas as pd

    rows = []
    for (group, sample), part in runs.groupby([by, "sample"], sort=True):
        part = part.sort_values("emission")
        rows.append({by: group, "sample": sample,
                     "min_emission": min_emission_for_target(part["emission"].to_numpy(), part[metric].to_numpy(),
                                                             target)})
    return pd.DataFrame(rows)
