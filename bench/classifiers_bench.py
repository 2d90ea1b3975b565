"""Comments per second for analyze and analyze_many, against bare VADER and bare predict_proba.

Run: .venv/bin/python bench/classifiers_bench.py [--n 2000] [--rounds 5] [--one-by-one 300]. Prints
figures and ratios measured in this same run, so the cost of our wrapping shows whatever the machine.
The batch workloads are timed in turns, round after round, and each keeps its best round: a slow
spell of the machine then hits all of them alike instead of whichever happened to run first.

The sentiment model's cost is shown beside the figure before it: `analyze` with VADER's labels only
(the topic Pipeline plus VADER, as the Analyzer did before the sentiment model), with the model, and
with the model but without the embedder's memo of the last batch (each text encoded twice).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence

import click

from classifiers import Analyzer, dataset, default_analyzer, embeddings
from classifiers.sentiment import analyzer as vader
from classifiers.sentiment import label_for, sentiment_scores

Workload = Callable[[], object]


class VaderLabels(Analyzer):
    """The Analyzer as it was before the sentiment model: labels from VADER's compound score."""

    def sentiments(self, texts: Sequence[str]) -> tuple[list[str], list[float]]:
        compounds = [sentiment_scores(text)["compound"] for text in texts]
        return [label_for(c) for c in compounds], compounds


class WithoutMemo(Analyzer):
    """The sentiment model, but each Pipeline encodes the batch itself (no memo of the last batch)."""

    def sentiments(self, texts: Sequence[str]) -> tuple[list[str], list[float]]:
        embeddings.RECENT.forget()
        return super().sentiments(texts)


def best_times(workloads: dict[str, Workload], rounds: int) -> dict[str, float]:
    """Best wall time of each workload over `rounds` interleaved rounds (after one warm-up round)."""
    best = dict.fromkeys(workloads, float("inf"))
    with click.progressbar(range(rounds + 1), label="timing batch workloads", file=sys.stderr) as bar:
        for round_number in bar:
            for name, work in workloads.items():
                embeddings.RECENT.forget()  # each workload encodes its texts, as a fresh batch would
                start = time.perf_counter()
                work()
                if round_number:
                    best[name] = min(best[name], time.perf_counter() - start)
    return best


def one_by_one(texts: list[str], analyzers: dict[str, Callable[[str], object]]) -> dict[str, float]:
    """Wall time of classifying each text with its own call (the way a form post does), in turns."""
    spent = dict.fromkeys(analyzers, 0.0)
    with click.progressbar(texts, label="analyze() one by one", file=sys.stderr) as bar:
        for text in bar:
            for name, analyze in analyzers.items():
                embeddings.RECENT.forget()  # the previous analyzer's vectors of this text are no help
                start = time.perf_counter()
                analyze(text)
                spent[name] += time.perf_counter() - start
    return spent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--one-by-one", type=int, default=300, help="texts for the analyze() loop")
    args = parser.parse_args()
    texts = [r.text for r in dataset.load_labeled()][:args.n]
    n = len(texts)
    model = default_analyzer()
    before = VaderLabels(model.model, model.sentiment)
    unshared = WithoutMemo(model.model, model.sentiment)
    pipeline = model.model.pipeline
    times = best_times({
        "bare VADER polarity_scores (loop)": lambda: [vader().polarity_scores(t) for t in texts],
        "bare Pipeline.predict_proba (batch)": lambda: pipeline.predict_proba(texts),
        "analyze_many, VADER labels (batch)": lambda: before.analyze_many(texts),
        "analyze_many (batch)": lambda: model.analyze_many(texts),
    }, args.rounds)
    for label, seconds in times.items():
        print(f"{label:<44} {n / seconds:>10.0f} comments/s")
    baseline = times["bare VADER polarity_scores (loop)"] + times["bare Pipeline.predict_proba (batch)"]
    many = times["analyze_many (batch)"]
    print(f"\nbaseline (bare VADER + bare predict_proba): {n / baseline:.0f} comments/s")
    print(f"analyze_many / baseline: {baseline / many:.2f}x   "
          f"analyze_many with the sentiment model / with VADER labels: "
          f"{many / times['analyze_many, VADER labels (batch)']:.2f}x the time")

    loop = texts[:args.one_by_one]
    spent = one_by_one(loop, {"VADER labels": before.analyze, "sentiment model": model.analyze,
                              "sentiment model, no memo": unshared.analyze})
    print(f"\nanalyze() one by one on {len(loop)} comments, ms per comment:")
    for label, seconds in spent.items():
        print(f"  {label:<28} {1000 * seconds / len(loop):8.2f}   "
              f"{seconds / spent['VADER labels']:.2f}x the cost with VADER labels")


if __name__ == "__main__":
    main()
