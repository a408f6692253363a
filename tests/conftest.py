"""Shared fixtures: the toy model is registered for every test."""
import pytest

import tests.models.toy  # noqa: F401  (registers the 'toy' model)


@pytest.fixture
def toy_spec_dict():
    """A small two-parameter sweep of the toy model."""
    return {
        "model": "toy",
        "seed": 3,
        "samples": 4,
        "timesteps": 12,
        "chunk_size": 4,
        "fixed": {"n_agents": 20},
        "sweep": {"emission": [1.0, 10.0, 100.0], "burn_rate": {"start": 0.0, "stop": 0.1, "num": 3}},
    }
