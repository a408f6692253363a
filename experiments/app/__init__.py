"""The logic behind the Streamlit app (``app.py``): the app is only pages and widgets.

- :mod:`.models`: which models can be offered (a built-in that fails to import is skipped).
- :mod:`.widgets`: Streamlit inputs generated from a model's parameter schema, export panels,
  runs with a progress bar and a cancel button.
- :mod:`.runs`: cost estimate and limit, cached runs through :func:`experiments.runner.run_spec`.
- :mod:`.scenarios`: named scenarios as specs, their combined result set, metric differences
  with 95% confidence intervals.
- :mod:`.sweeps`: one- and two-parameter sweeps as specs.
- :mod:`.charts`: the trade-off scatter (the other charts come from :mod:`experiments.figures`).
- :mod:`.export`: figure files, CSV/Parquet bytes and "copy as spec" TOML.
- :mod:`.claims`: the claims of ``seeds/claims.toml`` with their specs and stored results.

The app and the CLI share the runner and the figure functions, so an exported figure is the file
``tokensim plot`` writes for the same result set.
"""
