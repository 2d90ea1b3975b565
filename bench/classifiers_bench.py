"""Comments per second for analyze and analyze_many, against bare VADER and bare predict_proba.

Run: .venv/bin/python bench/classifiers_bench.py [--n 2000] [--rounds 5]. Prints figures and ratios
measured in this same run, so the cost of our wrapping shows whatever the machine. The batch
workloads are timed in turns, round after round, and each keeps its best round: a slow spell of
the machine then hits all of them alike instead of whichever happened to run first.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import click

from classifiers import dataset, default_analyzer
from classifiers.sentiment import analyzer as vader

Workload = Callable[[], object]


def best_times(workloads: dict[str, Workload], rounds: int) -> dict[str, float]:
    """Best wall time of each workload over `rounds` interleaved rounds (after one warm-up round)."""
    best = dict.fromkeys(workloads, float("inf"))
    with click.progressbar(range(rounds + 1), label="timing batch workloads", file=sys.stderr) as bar:
        for round_number in bar:
            for name, work in workloads.items():
                start = time.perf_counter()
                work()
                if round_number:
                    best[name] = min(best[name], time.perf_counter() - start)
    return best


def one_by_one(texts: list[str], analyze: Callable[[str], object]) -> float:
    """Wall time of classifying each text with its own call (the way a form post does)."""
    with click.progressbar(texts, label="analyze() one by one", file=sys.stderr) as bar:
        start = time.perf_counter()
        for text in bar:
            analyze(text)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    texts = [r.text for r in dataset.load_labeled()][:args.n]
    n = len(texts)
    model = default_analyzer()
    pipeline = model.model.pipeline
    times = best_times({
        "bare VADER polarity_scores (loop)": lambda: [vader().polarity_scores(t) for t in texts],
        "bare Pipeline.predict_proba (batch)": lambda: pipeline.predict_proba(texts),
        "analyze_many (batch)": lambda: model.analyze_many(texts),
    }, args.rounds)
    times["analyze (loop)"] = one_by_one(texts, model.analyze)
    for label, seconds in times.items():
        print(f"{label:<38} {n / seconds:>10.0f} comments/s")
    baseline = times["bare VADER polarity_scores (loop)"] + times["bare Pipeline.predict_proba (batch)"]
    many = times["analyze_many (batch)"]
    print(f"\nbaseline (bare VADER + bare predict_proba): {n / baseline:.0f} comments/s")
    print(f"analyze_many / baseline: {baseline / many:.2f}x   "
          f"analyze_many / analyze: {times['analyze (loop)'] / many:.1f}x")


if __name__ == "__main__":
    main()
