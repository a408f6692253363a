"""Parameters of the data-labeling rewards model (the single source of truth for CLI, specs, app).

Every parameter says its basis: ``calibrated`` (with the source it comes from), ``assumed`` (with
the range a referee would accept, which the claims engine varies) or ``setting`` (a choice of the
experiment: the rule, sizes, shares of each adversary, horizons). Subtensor's figures are from
opentensor/subtensor at commit 14bc6f9f964b9cc362e9635dd110a487fa5d15a0 (runtime spec_version 425).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tokensim.mechanisms.core import Param, Schema, require

from .rewards import RULES
from .stake import DISTRIBUTIONS
from .yuma import VARIANTS

SUBTENSOR = "opentensor/subtensor@14bc6f9f runtime/src/lib.rs"


def _check_shares(p: Mapping[str, Any]) -> None:
    total = p["share_lazy"] + p["share_ai"] + p["cartel_share"] + p["sybil_share"] + p["copy_share"]
    require(total <= 0.95, "share_lazy", p["share_lazy"],
            "share_lazy + share_ai + cartel_share + sybil_share + copy_share <= 0.95 (at least 5% honest labelers)",
            f"the five shares sum to {total:g}")
    require(p["alpha_low"] <= p["alpha_high"], "alpha_low", p["alpha_low"],
            f"at most alpha_high ({p['alpha_high']:g})")


def _check_sizes(p: Mapping[str, Any]) -> None:
    require(p["labels_per_task"] <= p["n_labelers"], "labels_per_task", p["labels_per_task"],
            f"an integer no larger than n_labelers ({p['n_labelers']})")
    require(p["n_tasks"] >= 2, "n_tasks", p["n_tasks"], "an integer >= 2 (peer prediction compares two tasks)")


def _setting(name, default, description, **kw):
    return Param(name, default, description, basis="setting", **kw)


def _assumed(name, default, description, plausible, **kw):
    return Param(name, default, description, basis="assumed", plausible=plausible, **kw)


def _subtensor(name, default, description, source, **kw):
    return Param(name, default, description, basis="calibrated", source=source, **kw)


SCHEMA = Schema(
    (
        _setting("reward_rule", "gold", "how labelers are paid", kind="choice", choices=RULES),
        _setting("n_labelers", 200, "labeler identities (active or not), including adversaries", kind="int", low=5,
                 high=100_000, unit="identities", structural=True),
        _setting("n_tasks", 200, "tasks demanded per epoch at the start", kind="int", low=2, high=100_000,
                 unit="tasks/epoch", structural=True),
        _setting("labels_per_task", 5, "distinct labelers who answer each task", kind="int", low=2, high=15,
                 unit="labels/task", structural=True),
        _setting("n_classes", 4, "classes a label can take (K)", kind="int", low=2, high=20, structural=True),
        _setting("n_validators", 8, "validators (yuma rule); validator 0 belongs to the cartel", kind="int", low=2,
                 high=256, structural=True),
        _setting("ds_iterations", 5, "Dawid-Skene EM iterations per epoch", kind="int", low=1, high=100,
                 structural=True),
        _setting("accuracy_window", 10, "epochs over which accuracy and relative accuracy are averaged (the last K)",
                 kind="int", low=1, high=200, unit="epochs", structural=True),
        _setting("equilibrium_check", False, "measure one-step best-response gains every epoch (costs one more "
                 "pay computation per epoch)", kind="bool"),
        _assumed("skilled_fraction", 0.5, "share of honest labelers who are skilled (the rest are noisy)", (0.2, 0.8),
                 low=0.0, high=1.0),
        _setting("share_lazy", 0.1, "initial share of lazy labelers (half constant, half random answers)", low=0.0,
                 high=0.95),
        _setting("share_ai", 0.0, "initial share of AI labelers (cheap, correlated errors)", low=0.0, high=0.95),
        _setting("cartel_share", 0.0, "share of identities in the colluding cartel, and its share of validator stake",
                 low=0.0, high=0.9),
        _setting("sybil_share", 0.0, "share of identities run by one Sybil spammer", low=0.0, high=0.95),
        _setting("copy_share", 0.0, "share of identities in a copy cartel (one member labels, the rest copy)",
                 low=0.0, high=0.95),
        _assumed("skill_skilled", 0.95, "skill of skilled labelers (1 = always right on an easy task)", (0.8, 1.0),
                 low=0.0, high=1.0),
        _assumed("skill_noisy", 0.7, "skill of noisy labelers", (0.4, 0.85), low=0.0, high=1.0),
        _assumed("difficulty_mean", 0.2, "mean task difficulty (Beta distributed, concentration 4)", (0.1, 0.4),
                 low=0.01, high=0.99),
        _assumed("ai_skill", 0.95, "AI labelers' skill on an easy task", (0.8, 1.0), low=0.0, high=1.0),
        _assumed("ai_difficulty_power", 2.0, "AI accuracy falls as (1 - difficulty) to this power (humans: 1)",
                 (1.0, 4.0), low=0.0, high=20.0),
        _assumed("ai_correlation", 0.7, "chance an AI labeler returns the task's shared model answer", (0.3, 1.0),
                 low=0.0, high=1.0),
        _assumed("ai_cost", 0.05, "cost of an AI label (inference), in tokens", (0.01, 0.3), low=0.0, high=1e9,
                 unit="tokens/label"),
        _setting("gold_share", 0.1, "share of demanded tasks with a known (gold) answer", low=0.0, high=1.0),
        _assumed("gold_recognisable", 0.0, "share of gold tasks adversaries recognise (and answer honestly)",
                 (0.0, 0.3), low=0.0, high=1.0),
        _assumed("gold_cost", 5.0, "cost of making one gold label, paid from the emission (gold rule)", (1.0, 20.0),
                 low=0.0, high=1e9, unit="tokens/task"),
        _setting("demand_decay", 0.0, "share of label demand lost each epoch as models self-train", low=0.0,
                 high=0.5, unit="1/epoch"),
        _setting("emission", 2000.0, "tokens minted per epoch to pay for labels", low=0.0, high=1e12,
                 unit="tokens/epoch"),
        _assumed("effort_cost", 1.0, "cost of an honest label (effort), in tokens", (0.5, 1.5), low=0.0, high=1e9,
                 unit="tokens/label"),
        _assumed("identity_cost", 0.5, "cost of keeping one identity active for an epoch", (0.0, 1.0), low=0.0,
                 high=1e9, unit="tokens/epoch"),
        _setting("stake_required", 10.0, "stake each active labeler must lock", low=0.0, high=1e9, unit="tokens"),
        _setting("slash_per_error", 2.0, "stake slashed per wrong gold answer (gold rule)", low=0.0, high=1e9,
                 unit="tokens"),
        _setting("gold_threshold", 0.6, "smoothed gold accuracy needed to be paid (gold rule)", low=0.0, high=1.0),
        _assumed("validator_accuracy", 0.9, "chance an honest validator's own audit label is right", (0.8, 0.98),
                 low=0.0, high=1.0),
        _setting("audit_rate", 0.2, "share of demanded tasks an auditing validator audits (its chosen rate)",
                 low=0.0, high=1.0),
        _assumed("audit_cost", 1.0, "cost to a validator of auditing one task", (0.5, 2.0), low=0.0, high=1e9,
                 unit="tokens/task"),
        _assumed("validator_budget", 100.0, "tokens per epoch a funded validator can spend on audits", (20.0, 500.0),
                 low=0.0, high=1e12, unit="tokens/epoch"),
        _setting("unfunded_validator_share", 0.0, "share of honest validators with no audit budget", low=0.0,
                 high=1.0),
        _assumed("validator_score_memory", 0.5, "weight of past audit scores in a validator's moving average",
                 (0.0, 0.9), low=0.0, high=0.99),
        _assumed("validator_adapt_rate", 0.1, "share of honest validators who revise audit-or-copy each epoch",
                 (0.0, 0.3), low=0.0, high=1.0, unit="1/epoch"),
        _setting("commit_reveal_delay", 0, "epochs before weights are revealed: copiers copy consensus this much "
                 "older", kind="int", low=0, high=16, unit="epochs", structural=True),
        _subtensor("stake_distribution", "published", "honest validators' stake by rank: published concentration "
                   "or a Zipf law (stake.py)", "data/labeling_validator_stake.csv", kind="choice",
                   choices=DISTRIBUTIONS),
        _assumed("stake_concentration", 1.0, "Zipf exponent of honest validator stake (stake_distribution = zipf)",
                 (0.0, 2.0), low=0.0, high=10.0),
        _subtensor("owner_cut", 0.18, "share of the pool paid to the subnet owner (yuma rule)",
                   f"{SUBTENSOR}: SubtensorInitialSubnetOwnerCut = 11_796 (18%); run_coinbase.rs; "
                   "docs.bittensor.com/dynamic-tao/emission (18% owner, 41% miners, 41% validators)", low=0.0,
                   high=1.0),
        _subtensor("validator_take", 0.5, "share of the pool after the owner's cut paid to validators (yuma rule)",
                   "opentensor/subtensor@14bc6f9f pallets/subtensor/src/coinbase/run_coinbase.rs: miner cut 50% of "
                   "alpha out (so 41% miners / 41% validators / 18% owner, as docs.bittensor.com/dynamic-tao/emission "
                   "states)", low=0.0, high=1.0),
        _setting("yuma_variant", "subtensor", "Yuma bond update: subtensor's original run_epoch, Yuma 3, or Yuma 3 "
                 "with liquid alpha (yuma.py)", kind="choice", choices=VARIANTS),
        _subtensor("kappa", 0.5, "stake share that must support a weight in Yuma consensus",
                   f"{SUBTENSOR}: SubtensorInitialKappa = 32_767 (0.5)", low=0.0, high=1.0),
        _subtensor("bond_alpha", 0.1, "EMA rate of Yuma bonds (1 - bonds_moving_average)",
                   f"{SUBTENSOR}: SubtensorInitialBondsMovingAverage = 900_000", low=0.0, high=1.0),
        _subtensor("bond_penalty", 1.0, "Yuma bonds penalty beta on weight above consensus",
                   f"{SUBTENSOR}: SubtensorInitialBondsPenalty = u16::MAX", low=0.0, high=1.0),
        _subtensor("alpha_low", 0.7, "lowest liquid-alpha bond EMA rate (yuma3_liquid)",
                   "opentensor/subtensor@14bc6f9f pallets/subtensor/src/lib.rs: DefaultAlphaValues (45875, 58982)",
                   low=0.0, high=1.0),
        _subtensor("alpha_high", 0.9, "highest liquid-alpha bond EMA rate (yuma3_liquid)",
                   "opentensor/subtensor@14bc6f9f pallets/subtensor/src/lib.rs: DefaultAlphaValues (45875, 58982)",
                   low=0.0, high=1.0),
        _subtensor("alpha_steepness", 1000.0, "steepness of liquid alpha's sigmoid (subtensor units; /100 in the "
                   "exponent)", f"{SUBTENSOR}: SubtensorInitialAlphaSigmoidSteepness = 1000", low=0.0, high=1e5),
        _assumed("adapt_rate", 0.1, "share of independent labelers who revise their strategy each epoch",
                 (0.02, 0.3), low=0.0, high=1.0, unit="1/epoch"),
        _assumed("explore_rate", 0.01, "chance per epoch that a labeler (or validator) tries a random strategy",
                 (0.0, 0.05), low=0.0, high=1.0, unit="1/epoch"),
        _assumed("join_rate", 0.05, "chance per epoch that an inactive identity joins when joining pays",
                 (0.01, 0.2), low=0.0, high=1.0, unit="1/epoch"),
        _assumed("leave_rate", 0.1, "chance per epoch that a labeler with negative profit leaves", (0.02, 0.3),
                 low=0.0, high=1.0, unit="1/epoch"),
        _assumed("profit_memory", 0.5, "weight of past profit in each agent's profit estimate (EMA)", (0.0, 0.9),
                 low=0.0, high=0.99),
        _setting("ds_memory", 0.9, "decay of Dawid-Skene confusion counts carried from epoch to epoch", low=0.0,
                 high=1.0),
        _assumed("initial_participation", 0.8, "share of independent identities active at the start", (0.5, 1.0),
                 low=0.0, high=1.0),
    ),
    checks=(_check_shares, _check_sizes),
)
