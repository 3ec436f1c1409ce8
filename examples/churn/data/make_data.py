"""Generate the churn example's data: a reference period and a shifted later period.

Run from this folder: `python data/make_data.py`. Seeded, so the committed CSVs are what it
writes. Churn is driven by tenure, support calls, contract and spend; region is recorded (and
checked by the bias gate) but does not drive churn.
"""

from __future__ import annotations

import csv
import math
import random
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).parent
PLANS = ["basic", "plus", "pro"]
REGIONS = ["north", "south", "east", "west"]


def customer_rows(
    rng: random.Random, n: int, start: datetime, days: int, shifted: bool
) -> list[dict[str, object]]:
    rows = []
    for _ in range(n):
        cid = 10_000 + rng.randrange(n // 2) if not shifted else 20_000 + rng.randrange(n // 2)
        ts = start + timedelta(seconds=rng.randrange(days * 86400))
        tenure = max(1, int(rng.expovariate(1 / (8 if shifted else 20))))
        calls = min(12, int(rng.expovariate(1 / (3.5 if shifted else 1.5))))
        plan = rng.choices(PLANS, weights=[0.2, 0.3, 0.5] if shifted else [0.5, 0.3, 0.2])[0]
        contract = rng.choices(["monthly", "annual"], weights=[0.7, 0.3] if shifted else [0.5, 0.5])[0]
        spend = round(
            rng.gauss({"basic": 25, "plus": 55, "pro": 95}[plan] * (1.25 if shifted else 1.0), 8), 2
        )
        region = rng.choice(REGIONS)
        z = (
            -1.2
            - 0.06 * tenure
            + 0.45 * calls
            + (0.9 if contract == "monthly" else -0.6)
            + 0.01 * (spend - 50)
        )
        churned = int(rng.random() < 1 / (1 + math.exp(-z)))
        rows.append(
            {
                "customer_id": cid,
                "ts": ts.strftime("%Y-%m-%dT%H:%M:%S"),
                "tenure_months": tenure,
                "monthly_spend": spend,
                "support_calls": calls,
                "plan": plan,
                "contract": contract,
                "region": region,
                "churned": churned,
            }
        )
    rows.sort(key=lambda r: str(r["ts"]))
    return rows


def write(path: Path, rows: list[dict[str, object]]) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    rng = random.Random(20261125)
    write(HERE / "customers.csv", customer_rows(rng, 4000, datetime(2026, 1, 1), 180, shifted=False))
    write(HERE / "customers_shifted.csv", customer_rows(rng, 1500, datetime(2026, 7, 1), 60, shifted=True))


if __name__ == "__main__":
    main()
