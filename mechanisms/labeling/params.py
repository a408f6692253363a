"""Parameters of the data-labeling rewards model (the single source of truth for CLI, specs, app)."""
from __future__ import annotations

from typing import Any, Mapping

from mechanisms.core import Param, Schema, require

from .rewards import RULES
from .yuma import VARIANTS


def _check_shares(p: Mapping[str, Any]) -> None:
    total = p["share_lazy"] + p["cartel_share"] + p["sybil_share"]
    require(total <= 0.95, "share_lazy", p["share_lazy"],
            "share_lazy + cartel_share + sybil_share <= 0.95 (at least 5% honest labelers)",
            f"the three shares sum to {total:g}")


def _check_sizes(p: Mapping[str, Any]) -> None:
    require(p["labels_per_task"] <= p["n_labelers"], "labels_per_task", p["labels_per_task"],
            f"an integer no larger than n_labelers ({p['n_labelers']})")
    require(p["n_tasks"] >= 2, "n_tasks", p["n_tasks"], "an integer >= 2 (peer prediction compares two tasks)")


SCHEMA = Schema(
    (
        Param("reward_rule", "gold", "how labelers are paid", kind="choice", choices=RULES),
        Param("n_labelers", 200, "labeler identities (active or not), including cartel and Sybil ones",
              kind="int", low=5, high=100_000, unit="identities", structural=True),
        Param("n_tasks", 200, "tasks labeled per epoch", kind="int", low=2, high=100_000, unit="tasks/epoch",
              structural=True),
        Param("labels_per_task", 5, "distinct labelers who answer each task", kind="int", low=2, high=15,
              unit="labels/task", structural=True),
        Param("n_classes", 4, "classes a label can take (K)", kind="int", low=2, high=20, structural=True),
        Param("n_validators", 8, "validators that audit labels (yuma rule); validator 0 belongs to the cartel",
              kind="int", low=2, high=256, structural=True),
        Param("ds_iterations", 5, "Dawid-Skene EM iterations per epoch", kind="int", low=1, high=100,
              structural=True),
        Param("skilled_fraction", 0.5, "share of honest labelers who are skilled (the rest are noisy)",
              low=0.0, high=1.0),
        Param("share_lazy", 0.1, "initial share of lazy labelers (half constant, half random answers)",
              low=0.0, high=0.95),
        Param("cartel_share", 0.0, "share of identities in the colluding cartel, and its share of validator stake",
              low=0.0, high=0.9),
        Param("sybil_share", 0.0, "share of identities run by one Sybil spammer", low=0.0, high=0.95),
        Param("skill_skilled", 0.95, "skill of skilled labelers (1 = always right on an easy task)", low=0.0, high=1.0),
        Param("skill_noisy", 0.7, "skill of noisy labelers", low=0.0, high=1.0),
        Param("difficulty_mean", 0.2, "mean task difficulty (Beta distributed, concentration 4)", low=0.01, high=0.99),
        Param("gold_share", 0.1, "share of tasks with a known (gold) answer", low=0.0, high=1.0),
        Param("emission", 2000.0, "tokens minted per epoch to pay for labels", low=0.0, high=1e12,
              unit="tokens/epoch"),
        Param("effort_cost", 1.0, "cost of an honest label (effort), in tokens", low=0.0, high=1e9, unit="tokens/label"),
        Param("identity_cost", 0.5, "cost of keeping one identity active for an epoch", low=0.0, high=1e9,
              unit="tokens/epoch"),
        Param("stake_required", 10.0, "stake each active labeler must lock", low=0.0, high=1e9, unit="tokens"),
        Param("slash_per_error", 2.0, "stake slashed per wrong gold answer (gold rule)", low=0.0, high=1e9,
              unit="tokens"),
        Param("gold_threshold", 0.6, "smoothed gold accuracy needed to be paid (gold rule)", low=0.0, high=1.0),
        Param("validator_accuracy", 0.9, "chance an honest validator's own audit label is right (yuma rule)",
              low=0.0, high=1.0),
        Param("yuma_variant", "subtensor", "Yuma bond update: subtensor's original run_epoch, Yuma 3, or Yuma 3 "
              "with liquid alpha (see yuma.py)", kind="choice", choices=VARIANTS),
        Param("alpha_low", 0.7, "lowest liquid-alpha bond EMA rate (yuma3_liquid)", low=0.0, high=1.0),
        Param("alpha_high", 0.9, "highest liquid-alpha bond EMA rate (yuma3_liquid)", low=0.0, high=1.0),
        Param("alpha_steepness", 1000.0, "steepness of liquid alpha's sigmoid (subtensor units; /100 in the "
              "exponent)", low=0.0, high=1e5),
        Param("kappa", 0.5, "stake share that must support a weight in Yuma consensus", low=0.0, high=1.0),
        Param("bond_alpha", 0.1, "EMA rate of Yuma bonds", low=0.0, high=1.0),
        Param("bond_penalty", 1.0, "Yuma bonds penalty beta on weight above consensus", low=0.0, high=1.0),
        Param("validator_take", 0.5, "share of the pool paid to validators as dividends (yuma rule)", low=0.0,
              high=1.0),
        Param("adapt_rate", 0.1, "share of independent labelers who revise their strategy each epoch", low=0.0,
              high=1.0, unit="1/epoch"),
        Param("explore_rate", 0.01, "chance per epoch that an independent labeler tries a random strategy",
              low=0.0, high=1.0, unit="1/epoch"),
        Param("join_rate", 0.05, "chance per epoch that an inactive identity joins when joining pays", low=0.0,
              high=1.0, unit="1/epoch"),
        Param("leave_rate", 0.1, "chance per epoch that a labeler with negative profit leaves", low=0.0, high=1.0,
              unit="1/epoch"),
        Param("profit_memory", 0.5, "weight of past profit in each labeler's profit estimate (EMA)", low=0.0,
              high=0.99),
        Param("ds_memory", 0.9, "decay of Dawid-Skene confusion counts carried from epoch to epoch", low=0.0,
              high=1.0),
        Param("initial_participation", 0.8, "share of independent identities active at the start", low=0.0,
              high=1.0),
    ),
    checks=(_check_shares, _check_sizes),
)
