"""cadCAD state updates of the inflation model.

Each block's policy computes the new values of the variables it owns; the update for a variable
copies its new value from the policy signal (or keeps the old array when the active emission
policy has no such memory). No update modifies an array in place.
"""
from __future__ import annotations

from mechanisms.core.updates import take, updates_for

__all__ = ["take", "updates_for"]
