"""AI-adjusted inflation: emission policies for a proof-of-stake token under demand shocks.

Importing :mod:`tokensim.mechanisms.inflation.model` registers the ``inflation`` model.
"""
