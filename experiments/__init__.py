"""How tokensim models are run: experiment specs, the chunked runner, storage, figures and the CLI."""
