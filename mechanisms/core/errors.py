"""Errors a user can cause, each with a message that says what to change.

The CLI and the app catch :class:`TokensimError` and show its message without a traceback;
anything else is a bug in tokensim and is allowed to surface as one.
"""
from __future__ import annotations

SHOWN_CHARS = 80  # a value echoed in a message is cut to about this many characters


def clip(text: str, limit: int = SHOWN_CHARS) -> str:
    """``text`` cut to about ``limit`` characters, saying how long it was."""
    return text if len(text) <= limit else f"{text[: max(limit - 22, 8)]}... ({len(text)} characters)"


def printable(text: str) -> str:
    """``text`` with control characters (newlines, tabs, NUL...) escaped, so a message stays one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def shorten(value: object, limit: int = SHOWN_CHARS) -> str:
    """``repr(value)`` cut to about ``limit`` characters, so a huge input never floods a message."""
    try:
        text = repr(value)
    except (RecursionError, ValueError):  # a deeply nested value, or an int too long to print
        text = f"<a {type(value).__name__} too large to show>"
    return clip(text, limit)


class TokensimError(Exception):
    """Base class for mistakes in user input (parameters, spec files, data files)."""


class ParameterError(TokensimError, ValueError):
    """A parameter value is missing, unknown, of the wrong type or out of its allowed range."""

    def __init__(self, name: str, value: object, allowed: str, reason: str = "") -> None:
        self.name, self.value, self.allowed = name, value, allowed
        detail = f" ({reason})" if reason else ""
        super().__init__(f"parameter '{clip(printable(str(name)), 60)}' = {shorten(value)} is not allowed{detail}; allowed: {allowed}")


class SpecError(TokensimError, ValueError):
    """An experiment spec file (TOML/JSON) is malformed; names the file and the offending key."""

    def __init__(self, source: str, key: str, message: str) -> None:
        self.source, self.key = source, key
        where = f"{source}: key '{clip(printable(str(key)), 60)}'" if key else source
        super().__init__(f"{where}: {message}")


class DataFileError(TokensimError, ValueError):
    """A user data file (for example a CSV of balances) cannot be read as the model needs it."""
