"""Claims: the claims of seeds/claims.toml with the experiment that tests each, and its results."""
from tokensim.experiments.app.claims import page

page()
