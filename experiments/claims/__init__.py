"""The claims engine: computed, citable verdicts on the essays' claims, with their robustness.

``criteria`` parses and validates the machine-checkable criteria of seeds/claims.toml;
``verdict`` decides a claim from per-run outcomes on 95% intervals; ``sampling`` runs the rows a
claim needs in resumable, content-addressed chunks; ``robustness`` screens the assumed parameters
(Morris) and re-decides the verdict over a Latin hypercube ensemble; ``engine`` ties these
together with a content-hash cache; ``figures`` and ``report`` turn stored records into the
claim figures, docs/claims.md, docs/claims.html and README's findings table.
``tokensim claims list | check ID... | check --all | report`` is the command line.
"""
