"""The app's Claims tab (tokensim.experiments.app.claims.page) driven by Streamlit's AppTest: it lists every
claim, checks one with the engine on a button press, then shows its computed verdict and figures."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from tokensim.experiments.app import claims
from tests.test_claims_engine import toy_root

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def test_claims_tab_checks_a_claim_and_shows_verdict_robustness_and_figures(tmp_path, monkeypatch):
    root = toy_root(tmp_path)
    monkeypatch.setattr(claims, "PACKAGE_ROOT", root)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("app_pages/claims.py").run()
    assert not at.exception
    assert any(e.label == "toy-supply-stays-high: not checked" for e in at.expander)
    at.checkbox(key="claims:toy-supply-stays-high:robust").set_value(False).run()
    at.button(key="claims:toy-supply-stays-high:check").click().run()
    assert not at.exception
    assert (root / "results" / "claims" / "toy-supply-stays-high" / "verdict.json").is_file()
    assert any(m.value.startswith("**Verdict: :green[supported].** supports when[0] holds: supply") for m in at.markdown)
    assert any("robustness not requested" in m.value for m in at.markdown)
    at.toggle(key="claims:toy-supply-stays-high:figs").set_value(True).run()
    assert not at.exception
    assert len(at.get("vega_lite_chart")) == 2  # the claim figure and its convergence
