"""The models the app offers: every registered name that imports cleanly."""
from __future__ import annotations

import importlib
from typing import Iterable

from tokensim.mechanisms.core import Model, get_model, model_names


def import_model_modules(modules: Iterable[str]) -> None:
    """Import modules that register extra models (``streamlit run app.py -- --models pkg.mod``).

    The module names come from the operator's command line, never from a browser session.
    """
    for module in modules:
        importlib.import_module(module)


def available_models() -> tuple[dict[str, Model], dict[str, str]]:
    """Models that load, by name, and the reason each other registered name was skipped.

    A built-in model that is missing or broken must not take the whole app down, so any
    exception raised while importing it is reported instead of raised.
    """
    ok: dict[str, Model] = {}
    skipped: dict[str, str] = {}
    for name in model_names():
        try:
            ok[name] = get_model(name)
        except Exception as exc:  # noqa: BLE001 - see the docstring
            skipped[name] = f"{type(exc).__name__}: {exc}"
    return ok, skipped
