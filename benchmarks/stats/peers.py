"""Python peers for benchmarks/stats: scipy/statsmodels calls and a numpy paired bootstrap.

Run by bench.mjs with /usr/bin/python3 (Debian's scipy 1.10, statsmodels 0.13, numpy 1.24) when it exists.
Reads the inputs bench.mjs wrote to the JSON file named on the command line and prints one JSON object of
median seconds.
"""
import json
import statistics
import sys
import time

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests


def median_time(run, repeats):
    run()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def micro_f1(totals):
    tp, predicted, gold = totals[..., 0], totals[..., 1], totals[..., 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(gold > 0, tp / gold, 0.0)
        return np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)


def paired_bootstrap(a, b, resamples, seed):
    """Vectorised paired bootstrap of micro F1 over sentences, in chunks of 500 resamples."""
    rng = np.random.default_rng(seed)
    n = a.shape[0]
    observed = micro_f1(a.sum(0)) - micro_f1(b.sum(0))
    count = 0
    for start in range(0, resamples, 500):
        size = min(500, resamples - start)
        index = rng.integers(0, n, (size, n))
        deltas = micro_f1(a[index].sum(1)) - micro_f1(b[index].sum(1))
        count += int(np.sum(np.abs(deltas - observed) >= abs(observed)))
    return (count + 1) / (resamples + 1)


def main():
    data = json.load(open(sys.argv[1]))
    x, y = np.array(data["a"]), np.array(data["b"])
    p = np.array(data["p"])
    a = np.array(data["statsA"], dtype=float).reshape(-1, 3)
    b = np.array(data["statsB"], dtype=float).reshape(-1, 3)
    out = {
        "ttest_rel": median_time(lambda: stats.ttest_rel(x, y), 200),
        "wilcoxon": median_time(lambda: stats.wilcoxon(x, y), 200),
        "mannwhitneyu": median_time(lambda: stats.mannwhitneyu(x, y), 200),
        "multipletests": median_time(lambda: multipletests(p, method="fdr_bh"), 200),
        "paired_bootstrap": median_time(lambda: paired_bootstrap(a, b, 10000, 0), 3),
    }
    print(json.dumps(out))


main()
