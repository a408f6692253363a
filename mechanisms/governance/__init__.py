"""Governance: token holders vote on proposals under a chosen rule while whales and a Sybil attacker
try to overturn the community.

The pure voting arithmetic lives in :mod:`tokensim.mechanisms.governance.voting` (stateless, so other
models can import it); the Sybil attacker's best response in :mod:`tokensim.mechanisms.governance.sybil`;
holder balances in :mod:`tokensim.mechanisms.governance.holders`. Importing :mod:`tokensim.mechanisms.governance.model` registers the
cadCAD model ``governance``.
"""
