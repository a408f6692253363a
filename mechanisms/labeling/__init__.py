"""Data-labeling rewards: paying a decentralized crowd to label data for AI.

What is modelled: a network that mints tokens every epoch to pay a crowd for labeling tasks
(K classes, hidden true labels, a difficulty distribution, a share of gold tasks with known
answers), the way the source essays propose token incentives for teaching AI agents, with
Bittensor as their example. Labelers are skilled or noisy honest workers who pay an effort cost,
lazy workers (constant or random answers, no effort), a colluding cartel that agrees on one answer
per task, and a Sybil spammer running many cheap identities. Each epoch the chosen reward rule
(flat pay per label, gold checks with slashing, output agreement, correlated-agreement peer
prediction, or Bittensor's Yuma validator consensus) splits the emission; labels are aggregated by
majority vote and by Dawid-Skene EM; labelers copy better-paid peers (replicator dynamics) and join
or leave as profit allows.

Assumptions: tasks are independent and their true classes uniform; honest accuracy is
``1/K + (1 - 1/K) skill (1 - difficulty)`` with errors uniform over the other classes; lazy,
cartel and Sybil answers ignore the task; costs (effort, identity upkeep) are real costs outside
the token supply, while stake is the labelers' own tokens, locked while active and burned when
slashed. The cartel holds the same share of validator stake as of identities.

Sources: Dawid and Skene (1979) for label aggregation; Shnayder, Agarwal, Frongillo and Parkes
(2016) for the correlated-agreement mechanism; opentensor/subtensor docs/consensus.md and
docs.learnbittensor.org/yuma-consensus for Yuma consensus; Schlag (1998), "Why Imitate, and If
So, How?" (J. Economic Theory 78) for proportional imitation as replicator dynamics. Details and
limitations: docs/labeling.md.
"""
