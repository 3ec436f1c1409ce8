"""Reference and current frames for drift tests: `a` shifts a little, `b` stays, `plan`'s shares
move."""

from __future__ import annotations

import numpy as np
import pandas as pd


def frames(n: int = 3000, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    g = np.random.default_rng(seed)
    plans = np.array(["basic", "plus", "pro"])
    ref = pd.DataFrame(
        {"a": g.normal(0, 1, n), "b": g.normal(0, 1, n), "plan": g.choice(plans, n, p=[0.5, 0.3, 0.2])}
    )
    cur = pd.DataFrame(
        {"a": g.normal(0.15, 1, n), "b": g.normal(0, 1, n), "plan": g.choice(plans, n, p=[0.3, 0.3, 0.4])}
    )
    return ref, cur
