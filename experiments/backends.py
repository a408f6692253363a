"""Where chunks run. Every backend maps a list of chunks to (chunk, frame) pairs as they finish,
so the runner writes each chunk to disk the moment it is done, whatever runs it."""
from __future__ import annotations

from functools import partial

from mechanisms.core import TokensimError

from .runner import ChunkMap, local_map

BACKENDS = ("local",)


def chunk_map(backend: str = "local", workers: int = 1, address: str | None = None) -> ChunkMap:
    """The chunk map for ``backend``: ``local`` runs in this process (``workers=1``) or a process pool."""
    if workers < 1:
        raise TokensimError(f"--workers = {workers} is not allowed; allowed: an integer >= 1")
    if backend == "local":
        if address:
            raise TokensimError("--address only applies to a cluster backend")
        return partial(local_map, workers=workers)
    raise TokensimError(f"unknown backend '{backend}'; backends: {', '.join(BACKENDS)}")
