"""Parameters of the governance model (the single source of truth for CLI, specs and the app).

Units: balances and costs are in tokens; one timestep is one proposal; ages are in proposals.
Structural parameters (counts of agents, the voting rule, the balances file, the identity grid)
change array shapes or code paths; the rest may differ between rows of one batch.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tokensim.mechanisms.core import Param, Schema, require

from .holders import load_balances
from .voting import CREDIT_BASES, RULES

DISTRIBUTIONS = ("lognormal", "pareto")


def _check_shares(p: Mapping[str, Any]) -> None:
    require(p["whale_share"] + p["attacker_share"] <= 0.95, "attacker_share", p["attacker_share"],
            f"a number in [0, {0.95 - p['whale_share']:g}] so that whale_share + attacker_share <= 0.95",
            "the community must keep at least 5% of the supply")


def _check_whales(p: Mapping[str, Any]) -> None:
    require(p["n_whales"] > 0 or p["whale_share"] == 0.0 or p["balances_csv"] != "", "whale_share",
            p["whale_share"], "0 when n_whales = 0", "there are no whale wallets to hold it")


def _check_delegates(p: Mapping[str, Any]) -> None:
    require(p["n_delegates"] <= p["n_community"] or p["balances_csv"] != "", "n_delegates", p["n_delegates"],
            f"an integer in [1, n_community = {p['n_community']}]", "delegates are community wallets")


SCHEMA = Schema(
    (
        # holders
        Param("n_community", 1000, "number of community wallets (one person each)", kind="int", low=2,
              high=1_000_000, unit="wallets", structural=True,
              basis="setting"),
        Param("n_whales", 3, "number of whale wallets; they vote as one bloc", kind="int", low=0, high=100,
              unit="wallets", structural=True,
              basis="setting"),
        Param("whale_share", 0.2, "combined share of the token supply held by the whales, split equally",
              low=0.0, high=0.95, unit="share of supply",
              basis="setting"),
        Param("balance_dist", "lognormal", "distribution of community balances", kind="choice",
              choices=DISTRIBUTIONS,
              basis="setting"),
        Param("top1_share", 0.3, "share of community tokens held by its richest 1% (calibrates the distribution)",
              low=0.02, high=0.95, unit="share",
              plausible=(0.1, 0.6)),
        Param("balances_csv", "", "CSV of real balances (columns address,balance); the n_whales largest are "
              "the whales; empty = synthetic", kind="text", loader=load_balances,
              basis="setting"),
        Param("total_supply", 1e6, "token supply held by community, whales and attacker (synthetic holders)",
              low=1.0, high=1e15, unit="tokens", log_scale=True,
              basis="setting"),
        # voting rule
        Param("rule", "token", "voting rule", kind="choice", choices=RULES,
              basis="setting"),
        Param("quorum", 0.04, "tokens cast needed, as a share of the supply", low=0.0, high=1.0, unit="share of supply",
              basis="setting"),
        Param("pass_threshold", 0.5, "yes share of the voting power cast that a proposal must exceed",
              low=0.01, high=0.99, unit="share",
              basis="setting"),
        Param("veto_threshold", 1.0, "a proposal fails if tokens voting no exceed this share of the supply "
              "(1 = no veto rule)", low=0.0, high=1.0, unit="share of supply",
              basis="setting"),
        Param("stake_age_alpha", 0.9, "stake_age rule: decay per proposal, power = tokens * (1 - alpha^(age+1))",
              low=0.0, high=0.999,
              basis="setting"),
        # quadratic voting with voice credits
        Param("voice_credits", 100.0, "quadratic rule: voice credits an identity receives per period (equal basis), "
              "or a holder of the mean community balance receives (tokens basis)", low=1e-6, high=1e12,
              unit="credits", log_scale=True,
              basis="setting"),
        Param("credit_basis", "equal", "quadratic rule: credits per identity equal, or in proportion to tokens",
              kind="choice", choices=CREDIT_BASES,
              basis="setting"),
        Param("credit_period", 10, "quadratic rule: proposals per voice-credit period", kind="int", low=1,
              high=100_000, unit="proposals", structural=True,
              basis="setting"),
        Param("credit_carry", False, "quadratic rule: unspent credits carry over to the next period (else expire)",
              kind="bool",
              basis="setting"),
        # conviction voting (BlockScience/1Hive)
        Param("conviction_alpha", 2 ** (-1 / 3), "conviction rule: conviction decay per day, y(t+1) = alpha y(t) + x",
              low=0.0, high=0.9999,
              basis="calibrated", source="3-day half-life, alpha = 2**(-1/3): BlockScience/1Hive conviction-voting-cadcad, models/v3/model/parts/sys_params.py (1Hive Honey, 2020)"),
        Param("conviction_days", 14, "conviction rule: days a proposal's supporters keep their stake on it",
              kind="int", low=1, high=10_000, unit="days",
              plausible=(3, 60)),
        Param("conviction_beta", 0.2, "conviction rule: largest share of the pool one proposal may request",
              low=1e-6, high=1.0, unit="share of pool",
              basis="calibrated", source="BlockScience/1Hive conviction-voting-cadcad, models/v3/model/parts/sys_params.py (1Hive Honey, 2020)"),
        Param("conviction_rho", 0.0025, "conviction rule: scale of the trigger threshold", low=0.0, high=1.0,
              basis="calibrated", source="BlockScience/1Hive conviction-voting-cadcad, models/v3/model/parts/sys_params.py (1Hive Honey, 2020)"),
        Param("requested_share", 0.05, "conviction rule: share of the common pool each proposal requests",
              low=0.0, high=1.0, unit="share of pool",
              plausible=(0.005, 0.15)),
        Param("community_stake_age", 20, "mean initial stake age of community wallets (uniform on [0, 2x])",
              kind="int", low=0, high=100_000, unit="proposals",
              plausible=(0, 100)),
        Param("whale_stake_age", 0, "initial stake age of whale and attacker tokens", kind="int", low=0,
              high=100_000, unit="proposals",
              plausible=(0, 100)),
        Param("delegation_share", 0.3, "probability that a community wallet delegates (delegated rule only)",
              low=0.0, high=1.0, unit="probability",
              plausible=(0.05, 0.6)),
        Param("n_delegates", 10, "delegates: the largest community wallets", kind="int", low=1, high=10_000,
              unit="wallets", structural=True,
              basis="setting"),
        # preferences and turnout
        Param("support_mean", 0.55, "median share of the community that favours a proposal", low=0.01,
              high=0.99, unit="share",
              plausible=(0.45, 0.9)),
        Param("support_spread", 0.5, "spread of that share between proposals (sd in log-odds)", low=0.0,
              high=5.0, unit="log-odds",
              plausible=(0.1, 1.5)),
        Param("intensity_sigma", 1.0, "spread of how much each person cares (sd of log intensity)", low=0.0, high=3.0,
              plausible=(0.25, 2.0)),
        Param("intensity_skew", 0.3, "spread of the yes/no intensity ratio between proposals (sd of its log)",
              low=0.0, high=3.0,
              plausible=(0.0, 1.0)),
        Param("whale_opposition", 0.5, "probability that the whales oppose the community's preference", low=0.0,
              high=1.0, unit="probability",
              basis="setting"),
        Param("base_turnout", 0.5, "turnout of a holder whose stake dwarfs the participation cost", low=0.0,
              high=1.0, unit="probability",
              plausible=(0.02, 0.6)),
        Param("participation_cost", 10.0, "cost of casting a vote in currency (gas, attention); turnout = "
              "base_turnout * v / (v + cost) for a wallet's stake value v", low=0.0, high=1e12, unit="currency",
              plausible=(1.0, 50.0)),
        Param("mean_wallet_value", 1000.0, "currency value of the mean community wallet; sets the token price, so "
              "turnout does not depend on the token unit or the community size", low=1e-6, high=1e12,
              unit="currency", log_scale=True,
              plausible=(100.0, 10000.0)),
        # Sybil attacker
        Param("attacker_share", 0.05, "share of the supply held by the Sybil attacker (0 = no attacker)",
              low=0.0, high=0.95, unit="share of supply",
              basis="setting"),
        Param("attack_value", 1e4, "value to the attacker of flipping one outcome; also its per-proposal budget",
              low=0.0, high=1e15, unit="tokens", log_scale=True,
              basis="setting"),
        Param("identity_cost", 10.0, "price of one fabricated identity, paid once (identities persist)", low=0.0,
              high=1e15, unit="tokens", log_scale=True,
              basis="setting"),
        Param("personhood_pass", 0.5, "probability that a fabricated identity passes proof of personhood "
              "(per-person rules; detection at purchase = 1 - pass)", low=0.0, high=1.0, unit="probability",
              plausible=(0.05, 0.9)),
        Param("market_identity_cost", 1e3, "price of a real person's identity bought from its owner, paid once",
              low=0.0, high=1e15, unit="tokens", log_scale=True,
              plausible=(50.0, 5000.0)),
        Param("market_pass", 0.98, "probability that a bought real-person identity passes proof of personhood",
              low=0.0, high=1.0, unit="probability",
              plausible=(0.9, 1.0)),
        Param("identity_detection", 0.02, "probability per proposal that a held fake identity is detected and "
              "removed (the stock decays)", low=0.0, high=1.0, unit="probability",
              plausible=(0.0, 0.1)),
        Param("attack_horizon", 40, "proposals over which the attacker plans to reuse identities it buys",
              kind="int", low=1, high=100_000, unit="proposals",
              basis="setting"),
        Param("borrow_limit", 0.0, "tokens a lending market lends for one vote, as a share of the supply "
              "(token, delegated, stake_age rules; 0 = no borrowing)", low=0.0, high=10.0, unit="share of supply",
              basis="setting"),
        Param("borrow_fee", 0.0009, "fee per borrowed token per vote, paid in tokens to the lenders", low=0.0,
              high=1.0, unit="tokens per token",
              basis="calibrated", source="Aave V2 flash-loan premium, 0.09% of the amount (FLASHLOAN_PREMIUM_TOTAL = 9 bps)"),
        Param("capital_rate", 0.001, "opportunity cost of the attacker's tokens per proposal", low=0.0, high=1.0,
              unit="share per proposal",
              plausible=(0.0, 0.005)),
        Param("price_impact", 1.0, "price rise per share of supply bought when the attacker acquired its tokens",
              low=0.0, high=100.0, unit="price / share of supply",
              plausible=(0.0, 3.0)),
        Param("slash_detected", False, "slash (burn) the tokens of detected fake identities", kind="bool",
              basis="setting"),
        Param("max_identities", 4096, "largest number of identities the attacker considers", kind="int",
              low=1, high=100_000, unit="identities", structural=True,
              basis="setting"),
    ),
    checks=(_check_shares, _check_whales, _check_delegates),
)
