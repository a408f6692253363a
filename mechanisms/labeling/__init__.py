"""Data-labeling rewards: paying a decentralized crowd to label data for AI.

What is modelled: a network that mints tokens every epoch to pay a crowd for labeling tasks
(K classes, hidden true labels, a difficulty distribution, a share of gold tasks with known
answers), the way the source essays propose token incentives for teaching AI agents, with
Bittensor as their example. Labelers are skilled or noisy honest workers who pay an effort cost,
lazy workers (constant or random answers, no effort), AI labelers (cheap, accurate on average,
with errors shared among them and concentrated on hard tasks), a colluding cartel that agrees on
one answer per task, a Sybil spammer running many cheap identities, and a copy cartel whose
members copy the one member who labels each task; adversaries may recognise some gold tasks and
answer those honestly. Each epoch the chosen reward rule (flat pay per label, gold checks with
slashing and gold labels paid from the budget, output agreement, correlated-agreement peer
prediction, or Bittensor's Yuma consensus as subtensor runs it, with validators who audit a share
of tasks at a cost or copy last epoch's consensus, concentrated stake and the network's
owner/miner/validator split) splits the emission; labels are aggregated by majority vote and by
Dawid-Skene EM and compared with an all-honest crowd on the same draws; labelers and validators
copy better-paid peers (replicator dynamics) and join or leave as profit allows; an optional
one-step best-response check measures whether any type gains by switching strategy; label demand
may shrink as models self-train.

Assumptions: tasks are independent and their true classes uniform; honest accuracy is
``1/K + (1 - 1/K) skill (1 - difficulty)`` with errors uniform over the other classes; lazy,
cartel and Sybil answers ignore the task (except recognised gold); costs (effort, inference,
identity upkeep, audits) are real costs outside the token supply, while stake is the labelers' own
tokens, locked while active and burned when slashed. The cartel holds the same share of validator
stake as of identities.

Sources: Dawid and Skene (1979) for label aggregation; Shnayder, Agarwal, Frongillo and Parkes
(2016) for the correlated-agreement mechanism; opentensor/subtensor at commit 14bc6f9f
(``run_epoch.rs``, ``run_coinbase.rs``, runtime defaults) for Yuma consensus, Yuma 3, liquid alpha
and the emission split; Mentat Minds (2024) for validator stake concentration
(data/labeling_validator_stake.csv); Schlag (1998), "Why Imitate, and If So, How?" (J. Economic
Theory 78) for proportional imitation as replicator dynamics. Details and limitations:
docs/labeling.md.
"""
