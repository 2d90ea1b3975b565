"""Comments per second for analyze and analyze_many, against bare VADER and bare predict_proba.

Run: .venv/bin/python bench/classifiers_bench.py [--n 2000]. Prints figures and ratios measured in
this same run, so the cost of our wrapping shows whatever the machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import click

from classifiers import dataset, default_analyzer
from classifiers.sentiment import analyzer as vader


def rate(label: str, n: int, work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    per_second = n / (time.perf_counter() - start)
    print(f"{label:<38} {per_second:>10.0f} comments/s")
    return per_second


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    n = parser.parse_args().n
    texts = [r.text for r in dataset.load_labeled()][:n]
    model = default_analyzer()
    pipeline = model.model.pipeline
    model.analyze_many(texts[:10])  # warm caches
    bare_vader = rate("bare VADER polarity_scores (loop)", n,
                      lambda: [vader().polarity_scores(t) for t in texts])
    bare_proba = rate("bare Pipeline.predict_proba (batch)", n, lambda: pipeline.predict_proba(texts))
    with click.progressbar(texts, label="analyze() one by one", file=sys.stderr) as bar:
        single = rate("analyze (loop)", n, lambda: [model.analyze(t) for t in bar])
    many = rate("analyze_many (batch)", n, lambda: model.analyze_many(texts))
    baseline = 1 / (1 / bare_vader + 1 / bare_proba)
    print(f"\nbaseline (bare VADER + bare predict_proba): {baseline:.0f} comments/s")
    print(f"analyze_many / baseline: {many / baseline:.2f}x   analyze_many / analyze: {many / single:.1f}x")


if __name__ == "__main__":
    main()
