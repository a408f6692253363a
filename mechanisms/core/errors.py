"""Errors a user can cause, each with a message that says what to change.

The CLI and the app catch :class:`TokensimError` and show its message without a traceback;
anything else is a bug in tokensim and is allowed to surface as one.
"""
from __future__ import annotations


class TokensimError(Exception):
    """Base class for mistakes in user input (parameters, spec files, data files)."""


class ParameterError(TokensimError, ValueError):
    """A parameter value is missing, unknown, of the wrong type or out of its allowed range."""

    def __init__(self, name: str, value: object, allowed: str, reason: str = "") -> None:
        self.name, self.value, self.allowed = name, value, allowed
        detail = f" ({reason})" if reason else ""
        super().__init__(f"parameter '{name}' = {value!r} is not allowed{detail}; allowed: {allowed}")


class SpecError(TokensimError, ValueError):
    """An experiment spec file (TOML/JSON) is malformed; names the file and the offending key."""

    def __init__(self, source: str, key: str, message: str) -> None:
        self.source, self.key = source, key
        where = f"{source}: key '{key}'" if key else source
        super().__init__(f"{where}: {message}")


class DataFileError(TokensimError, ValueError):
    """A user data file (for example a CSV of balances) cannot be read as the model needs it."""
