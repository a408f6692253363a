"""The logic behind the Streamlit app (``app.py`` and its pages in ``app_pages/``).

- :mod:`.context`: the sidebar (model, run settings), the scenarios as the session holds them,
  the model header with "About this model".
- :mod:`.state`: inputs kept per model across model and page switches, runs per model, the
  session saved and loaded as one file.
- :mod:`.runpanel`: estimate, Run button, progress with Cancel, partial results and resume.
- :mod:`.runs`: calibrated cost estimate and limit, runs that keep their chunks, a result cache.
- :mod:`.scenarios`: named scenarios as a comparison spec (:mod:`tokensim.experiments.comparison`).
- :mod:`.sweeps`: sweeps and designs as specs, default ranges that respect each parameter's scale
  and the model's cross-parameter checks, the Sobol convergence warning.
- :mod:`.pagekit`: the pieces the sweep and sensitivity pages share (grouped parameter pickers).
- :mod:`.widgets`: Streamlit inputs generated from a model's parameter schema, export panels.
- :mod:`.uploads`: data files uploaded for data-file parameters.
- :mod:`.ready`: the first screen's ready comparisons, from the claims.
- :mod:`.charts`: the trade-off scatter (the other charts come from :mod:`tokensim.experiments.figures`).
- :mod:`.export`: figure files, CSV/Parquet bytes and "copy as spec" TOML.
- :mod:`.claims`: the claims of ``seeds/claims.toml`` with their specs and stored results, and
  the Claims page.

The app and the CLI share the runner and the figure functions, so an exported figure is the file
``tokensim plot`` writes for the same result set.
"""
