"""Parse throughput of ipocket.expfmt next to prometheus_client, in the same run.

    python bench/parse_bench.py                  # the shipped corpus (../shared/corpus)
    python bench/parse_bench.py --fleet          # also the 46 MB fleet file gen_fleet.py makes

Prints MB/s (best of N runs) for each parser on each input and ipocket's speed-up. Both
sides produce Python objects the caller can use: ipocket `Sample`s (name, labels dict,
value, timestamp) and prometheus_client's `Metric`s with their `Sample` tuples.
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from prometheus_client.parser import text_string_to_metric_families

from ipocket import expfmt

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent.parent.parent / "shared" / "corpus"


def best_seconds(fn: Callable[[], object], runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        gc.collect()
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def bench(name: str, text: str, runs: int) -> None:
    data = text.encode()
    mb = len(data) / 1e6
    n = len(expfmt.parse(data))
    rows = [
        ("ipocket.expfmt.parse(bytes)", lambda: expfmt.parse(data)),
        ("ipocket.expfmt.parse(str)", lambda: expfmt.parse(text)),
        ("ipocket.expfmt.iter_samples", lambda: sum(1 for _ in expfmt.iter_samples(data))),
        ("ipocket.expfmt.parse_families", lambda: expfmt.parse_families(data)),
        ("prometheus_client text_string_to_metric_families",
         lambda: list(text_string_to_metric_families(text))),
    ]
    print(f"\n{name}: {mb:.2f} MB, {n} samples, best of {runs}")
    speeds = {}
    for label, fn in rows:
        s = best_seconds(fn, runs)
        speeds[label] = mb / s
        print(f"  {label:<52} {mb / s:9.1f} MB/s  {n / s / 1e6:6.2f} M samples/s")
    base = speeds["prometheus_client text_string_to_metric_families"]
    print(f"  speed-up of ipocket.expfmt.parse(bytes) over prometheus_client: "
          f"{speeds['ipocket.expfmt.parse(bytes)'] / base:.1f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--fleet", action="store_true", help="also bench the generated 46 MB fleet file")
    a = ap.parse_args()
    corpus = a.corpus
    for f in ("node_exporter.prom", "prometheus_self.prom"):
        bench(f, (corpus / f).read_text(), a.runs * 20)
    if a.fleet:
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "fleet.prom")
            subprocess.run([sys.executable, str(corpus / "gen_fleet.py"), "--out", out], check=True,
                           stdout=subprocess.DEVNULL)
            bench("fleet.prom (gen_fleet.py)", Path(out).read_text(), max(1, a.runs // 2))


if __name__ == "__main__":
    main()
