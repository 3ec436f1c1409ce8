"""The engine's drift methods against scipy, the reference profile, per-feature settings, and
parity with Evidently's recorded numbers (drift_expected.json): mlops_decl/ml/drift.py,
profile.py and monitor.py."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from drift_frames import frames
from record_evidently import cases  # pure numpy: the data Evidently saw
from scipy import stats
from scipy.spatial import distance

from mlops_decl.ml import drift
from mlops_decl.ml import monitor as monitoring
from mlops_decl.ml import profile as profiles
from mlops_decl.provider import ConfigError

EXPECTED = json.loads((Path(__file__).resolve().parents[1] / "providers" / "drift_expected.json").read_text())


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def sorted_(a: np.ndarray) -> np.ndarray:
    return np.sort(np.asarray(a, dtype=float))


# --- methods against scipy --------------------------------------------------------------

SAMPLES = {
    "normal": (rng(1).normal(0, 1, 3000), rng(2).normal(0.3, 1.2, 2000)),
    "ties": (rng(3).integers(0, 7, 500).astype(float), rng(4).integers(1, 9, 700).astype(float)),
    "lognormal": (rng(5).lognormal(0, 1, 1000), rng(6).lognormal(0.1, 1, 40_000)),
    "identical": (np.arange(100.0), np.arange(100.0)),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_wasserstein_and_ks_match_scipy(name):
    ref, cur = SAMPLES[name]
    r, c = sorted_(ref), sorted_(cur)
    expected_w = stats.wasserstein_distance(ref, cur) / max(np.std(ref), 0.001)
    assert drift.wasserstein(r, c, float(np.std(ref))) == pytest.approx(expected_w, rel=1e-9, abs=1e-12)
    ks = stats.ks_2samp(ref, cur)
    d = drift.ks_statistic(r, c)
    assert d == pytest.approx(ks.statistic, rel=1e-12, abs=1e-15)
    # exact below 10,000 rows a side, Smirnov's distribution above (the lognormal case)
    assert drift.ks_pvalue(r, c, d) == pytest.approx(ks.pvalue, rel=1e-9, abs=1e-300)


def test_jensen_shannon_linf_match_scipy_and_hand():
    p, q = np.array([10, 0, 30, 60]), np.array([5, 5, 50, 40])
    assert drift.jensen_shannon(p, q) == pytest.approx(distance.jensenshannon(p, q), rel=1e-12)
    assert drift.jensen_shannon(p, p) == 0.0
    assert drift.linf(p, q) == pytest.approx(0.2)  # |0.3 - 0.5| and |0.6 - 0.4|


@pytest.mark.parametrize(
    "ref,cur",
    [([30, 70], [50, 50]), ([10, 20, 30, 0], [12, 18, 25, 0]), ([100, 5, 0, 3], [90, 0, 10, 4])],
)
def test_chi2_is_scipy_contingency_without_correction(ref, cur):
    table = np.array([ref, cur])
    table = table[:, table.sum(axis=0) > 0]
    expected = stats.chi2_contingency(table, correction=False).pvalue
    assert drift.chi2(np.array(ref), np.array(cur)) == pytest.approx(expected, rel=1e-9)


def test_chi2_on_two_categories_is_evidentlys_z_test():
    ref, cur = np.array([560, 240]), np.array([300, 300])
    p1, p2 = ref[1] / ref.sum(), cur[1] / cur.sum()
    pooled = (ref[1] + cur[1]) / (ref.sum() + cur.sum())
    z = (p1 - p2) / math.sqrt(pooled * (1 - pooled) * (1 / ref.sum() + 1 / cur.sum()))
    assert drift.chi2(ref, cur) == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)


def test_psi_by_hand():
    # (0.25 - 0.5) ln(0.25 / 0.5) + (0.75 - 0.5) ln(0.75 / 0.5)
    assert drift.psi(np.array([5, 5]), np.array([1, 3])) == pytest.approx(
        -0.25 * math.log(0.5) + 0.25 * math.log(1.5)
    )
    # an empty current bin is smoothed to 1e-4 instead of an infinite score
    smoothed = (1e-4 - 0.5) * math.log(1e-4 / 0.5) + (1 - 0.5) * math.log(1 / 0.5)
    assert drift.psi(np.array([1, 1]), np.array([4, 0])) == pytest.approx(smoothed)


def test_psi_uses_reference_deciles():
    ref = np.arange(1000.0)
    cur = np.arange(300.0, 1300.0)
    prof = profiles.build(pd.DataFrame({"x": ref}))
    settings = monitoring.Settings(method="psi")
    out, _ = monitoring.evaluate(prof, pd.DataFrame({"x": cur}), settings)
    edges = np.quantile(ref, np.linspace(0.1, 0.9, 9))
    full = np.concatenate([[-np.inf], edges, [np.inf]])
    # (e_i, e_i+1] bins, as the profile cuts them
    rc = np.diff(np.searchsorted(ref, full, side="right"))
    cc = np.diff(np.searchsorted(cur, full, side="right"))
    p, q = rc / rc.sum(), cc / cc.sum()
    p, q = np.where(p == 0, 1e-4, p), np.where(q == 0, 1e-4, q)
    assert out["x"]["score"] == pytest.approx(float(np.sum((q - p) * np.log(q / p))))
    assert out["x"]["threshold"] == 0.25 and out["x"]["drifted"]


@pytest.mark.parametrize("n", [10, 999, 5000, 123_457])
def test_sturges_edges_and_sorted_histogram_match_numpy(n):
    a = rng(n).normal(size=n)
    b = rng(n + 1).normal(0.5, 2, n // 2 + 1)
    both = np.concatenate([a, b])
    edges = drift.sturges_edges(float(both.min()), float(both.max()), both.size)
    assert np.array_equal(edges, np.histogram_bin_edges(both, bins="sturges"))
    assert np.array_equal(drift.sorted_histogram(np.sort(a), edges), np.histogram(a, edges)[0])


def test_method_defaults_follow_evidently():
    assert drift.choose("numeric", 5000, None, None) == drift.Choice("wasserstein", 0.1, "distance")
    assert drift.choose("categorical", 5000, None, None) == drift.Choice("jensen_shannon", 0.1, "distance")
    assert drift.choose("numeric", 1000, None, None) == drift.Choice("ks", 0.05, "p_value")
    assert drift.choose("categorical", 1000, None, None) == drift.Choice("chi2", 0.05, "p_value")
    # named ks: Bonferroni p-values on small references, the statistic on large ones
    assert drift.choose("numeric", 800, "ks", None) == drift.Choice("ks", 0.05, "p_value", bonferroni=True)
    assert drift.choose("numeric", 5000, "ks", None) == drift.Choice("ks", 0.1, "statistic")
    assert drift.choose("numeric", 5000, "psi", None).threshold == 0.25


# --- settings: monitor-level and per-feature ----------------------------------------------


def test_monitor_method_applies_where_it_fits_and_per_feature_wins():
    ref, cur = frames()
    prof = profiles.build(ref)
    settings = monitoring.Settings(
        method="wasserstein",
        threshold=0.2,
        per_feature={"b": {"method": "psi", "threshold": 0.01}, "a": {"threshold": 0.1}},
    )
    out, _ = monitoring.evaluate(prof, cur, settings)
    assert (out["a"]["method"], out["a"]["threshold"], out["a"]["drifted"]) == ("wasserstein", 0.1, True)
    assert (out["b"]["method"], out["b"]["threshold"]) == ("psi", 0.01)
    # wasserstein cannot compare categories: plan keeps its default, and its default threshold
    assert (out["plan"]["method"], out["plan"]["threshold"], out["plan"]["kind"]) == (
        "jensen_shannon",
        0.1,
        "categorical",
    )
    # without a monitor method, the monitor threshold applies to the defaults
    out, _ = monitoring.evaluate(prof, cur, monitoring.Settings(threshold=0.5))
    assert {f["threshold"] for f in out.values()} == {0.5} and not any(f["drifted"] for f in out.values())


def test_named_ks_on_small_reference_is_bonferroni_corrected():
    ref, cur = frames(n=600)
    prof = profiles.build(ref)
    out, _ = monitoring.evaluate(prof, cur, monitoring.Settings(method="ks"))
    assert out["a"]["threshold"] == pytest.approx(0.05 / 2) and out["b"]["threshold"] == pytest.approx(
        0.05 / 2
    )
    assert out["a"]["score_kind"] == "p_value" and "statistic" in out["a"]
    assert out["plan"]["method"] == "chi2"  # categorical: the small-reference default
    default, _ = monitoring.evaluate(prof, cur, monitoring.Settings())
    assert default["a"]["threshold"] == 0.05 and "correction" not in default["a"]


def test_per_feature_settings_are_checked_against_the_profile():
    prof = profiles.build(frames()[0])
    summary = profiles.summary(prof)
    with pytest.raises(ConfigError) as err:
        monitoring.validate_summary(summary, monitoring.Settings(per_feature={"plan": {"method": "ks"}}))
    assert err.value.field == ("per_feature", "plan", "method")
    with pytest.raises(ConfigError) as err:
        monitoring.validate_summary(summary, monitoring.Settings(per_feature={"nope": {"threshold": 1}}))
    assert err.value.field == ("per_feature", "nope")


def test_sketch_of_a_large_reference_stays_close(monkeypatch):
    monkeypatch.setattr(profiles, "SAMPLE_SIZE", 2000)
    ref = pd.DataFrame({"x": rng(8).lognormal(0, 1, 60_000)})
    cur = pd.DataFrame({"x": rng(9).lognormal(0.1, 1, 20_000)})
    prof = profiles.build(ref)
    assert prof.features["x"].sample.size == 2000 and not prof.features["x"].exact
    out, _ = monitoring.evaluate(prof, cur, monitoring.Settings())
    exact = stats.wasserstein_distance(ref["x"], cur["x"]) / np.std(ref["x"])
    assert out["x"]["score"] == pytest.approx(exact, rel=0.02)


# --- parity with Evidently ----------------------------------------------------------------

# Where our verdict differs from Evidently's on purpose: its chi-square for more than two
# categories is a one-sample goodness-of-fit test that treats the reference shares as exact.
# s_int4 is drawn from the same distribution on both sides; Evidently's test says p = 0.020
# (drift), the two-sample test p = 0.118 (no drift).
DIVERGES = {("small_default", "s_int4")}


@pytest.mark.parametrize("case", sorted(EXPECTED["cases"]))
def test_parity_with_evidently(case):
    expected = EXPECTED["cases"][case]
    (ref, cur), settings, _ = cases()[case]
    prof = profiles.build(pd.DataFrame(ref))
    ours, _ = monitoring.evaluate(
        prof, pd.DataFrame(cur), monitoring.Settings(per_feature=settings.get("per_feature"))
    )
    assert set(ours) == set(expected["features"])
    for name, theirs in expected["features"].items():
        mine = ours[name]
        if theirs["method"] in ("chi2", "z"):
            # Our chi2 is the contingency test on the same counts (Evidently's z-test when binary).
            keys = np.union1d(ref[name], cur[name])
            table = np.array([[np.sum(ref[name] == k) for k in keys], [np.sum(cur[name] == k) for k in keys]])
            assert mine["method"] == "chi2"
            assert mine["score"] == pytest.approx(
                stats.chi2_contingency(table, correction=False).pvalue, rel=1e-9
            )
            if theirs["method"] == "z":  # Evidently's 1 - cdf loses everything below 1e-16
                assert mine["score"] == pytest.approx(theirs["score"], rel=1e-9, abs=1e-15)
        else:
            assert mine["method"] == theirs["method"], name
            assert mine["score"] == pytest.approx(theirs["score"], rel=1e-9, abs=1e-15), name
        assert mine["threshold"] == theirs["threshold"], name
        if (case, name) in DIVERGES:
            assert mine["drifted"] != theirs["drifted"], f"{name} no longer diverges: update DIVERGES"
        else:
            assert mine["drifted"] == theirs["drifted"], name
    summary = monitoring.summarize(ours, 0.5)
    assert summary["dataset_drift"] == expected["dataset_drift"]
    diverging = sum(1 for c, _ in DIVERGES if c == case)
    assert summary["drifted_share"] == pytest.approx(expected["drifted_share"] - diverging / len(ours))


def test_expected_numbers_came_from_evidently_0_7_23():
    assert EXPECTED["evidently_version"] == "0.7.23"
