"""Governance: token holders vote on proposals under a chosen rule while whales and a Sybil attacker
try to overturn the community.

The pure voting arithmetic lives in :mod:`mechanisms.governance.voting` (stateless, so other
models can import it); the Sybil attacker's best response in :mod:`mechanisms.governance.sybil`;
holder balances in :mod:`mechanisms.governance.holders`. Importing :mod:`mechanisms.governance.model` registers the
cadCAD model ``governance``.
"""
