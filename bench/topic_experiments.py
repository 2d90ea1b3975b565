"""Throwaway: levers that might read meaning better than the shipped topic design, on selection's own folds.

Run: nice -n 10 .venv/bin/python bench/topic_experiments.py cv --variants knn20_w1 mlp256 --blends
(or `loso --variants ...`; the names are the keys of FITTED). Uses exactly the
folds of `selection.out_of_fold` (StratifiedGroupKFold, topic.CV_FOLDS, topic.SEED, topic/source strata,
groups by normalised text) on the training split only, and its criterion: out-of-fold macro-F1 on the
real rows, with the bootstrap standard error, and the paired bootstrap gain over the shipped design.
The held-out split is never read here. Out-of-fold probabilities are kept under bench/out/topic3/ so a
variant is fitted once.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.kernel_approximation import Nystroem
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.neural_network import MLPClassifier

from classifiers import dataset, embeddings, evaluation, selection, topic
from classifiers.dataset import REAL_SOURCES, TOPICS, LabeledComment

OUT = Path(__file__).resolve().parent / "out" / "topic3"
SHIPPED = selection.Candidate("words+chars+embeddings", 64.0)


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)


def neighbour_table(query: np.ndarray, base: np.ndarray, query_groups: np.ndarray | None,
                    base_groups: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and cosines of each query row's k nearest base rows; same-text rows excluded when grouped."""
    indices = np.empty((len(query), k), dtype=np.int64)
    sims = np.empty((len(query), k), dtype=np.float32)
    for start in range(0, len(query), 1024):
        block = query[start:start + 1024] @ base.T
        if query_groups is not None:
            block[query_groups[start:start + 1024, None] == base_groups[None, :]] = -np.inf
        top = np.argpartition(-block, k, axis=1)[:, :k]
        indices[start:start + 1024] = top
        sims[start:start + 1024] = np.take_along_axis(block, top, axis=1)
    return indices, sims


def knn_distribution(indices: np.ndarray, sims: np.ndarray, onehot: np.ndarray, k: int,
                     power: float = 1.0) -> np.ndarray:
    """Similarity-weighted topic distribution of the k nearest (of the table's neighbours)."""
    order = np.argsort(-sims, axis=1)[:, :k]
    idx, sim = np.take_along_axis(indices, order, axis=1), np.take_along_axis(sims, order, axis=1)
    weights = np.maximum(sim, 0.0) ** power
    dist = np.einsum("nk,nkc->nc", weights, onehot[idx])
    return dist / np.maximum(dist.sum(axis=1, keepdims=True), 1e-12)


def class_similarity(query: np.ndarray, base: np.ndarray, query_groups: np.ndarray | None,
                     base_groups: np.ndarray, labels: np.ndarray, top: int = 3) -> np.ndarray:
    """Per topic, the mean cosine of the `top` most similar base rows of that topic."""
    out = np.zeros((len(query), len(TOPICS)), dtype=np.float32)
    for c, name in enumerate(TOPICS):
        members = labels == name
        _, sims = neighbour_table(query, base[members], query_groups, base_groups[members], top)
        out[:, c] = sims.mean(axis=1)
    return out


def folds(rows: Sequence[LabeledComment], seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Selection's folds, exactly as `selection.out_of_fold` draws them."""
    texts = np.array([r.text for r in rows], dtype=object)
    strata = [f"{r.topic}/{r.source}" for r in rows]
    same_text = [dataset.normalized(r.text) for r in rows]
    splitter = StratifiedGroupKFold(n_splits=topic.CV_FOLDS, shuffle=True, random_state=seed)
    return list(splitter.split(texts, strata, same_text))


class Fold:
    """One fit/score division with its feature blocks and the pieces every variant needs."""

    def __init__(self, rows: Sequence[LabeledComment], fit_idx: np.ndarray, val_idx: np.ndarray,
                 vectors: np.ndarray, groups: np.ndarray, cache: Path) -> None:
        texts = np.array([r.text for r in rows], dtype=object)
        self.labels = np.array([r.topic for r in rows])
        self.fit_idx, self.val_idx = fit_idx, val_idx
        self.blocks = selection.feature_blocks(texts[fit_idx], texts[val_idx], cache)
        self.fit_vec, self.val_vec = vectors[fit_idx], vectors[val_idx]
        self.fit_groups, self.val_groups = groups[fit_idx], groups[val_idx]
        self.fit_labels = self.labels[fit_idx]
        self.onehot = (self.fit_labels[:, None] == np.array(TOPICS)[None, :]).astype(np.float32)
        self.fit_texts = texts[fit_idx]
        self.fit_strata = np.array([f"{rows[i].topic}/{rows[i].source}" for i in fit_idx])
        self.cache = cache
        self.rows = rows
        self._tables: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def tables(self, k: int = 50) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Nearest fit rows: leave-one-text-out for fit rows, plain for scored rows."""
        if not self._tables:
            self._tables["fit"] = neighbour_table(self.fit_vec, self.fit_vec, self.fit_groups,
                                                  self.fit_groups, k)
            self._tables["val"] = neighbour_table(self.val_vec, self.fit_vec, None, self.fit_groups, k)
        return self._tables

    @property
    def pooled(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        if not hasattr(self, "_pooled"):
            self._pooled = {name: (m[self.fit_idx], m[self.val_idx])
                            for name, m in pooled_vectors(self.rows).items()}
        return self._pooled

    @property
    def layers(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        if not hasattr(self, "_layers"):
            self._layers = {name: (m[self.fit_idx], m[self.val_idx])
                            for name, m in layer_vectors(self.rows).items()}
        return self._layers

    def written_flag(self) -> tuple[np.ndarray, np.ndarray]:
        """1 on written training rows, 0 elsewhere and on every scored row: the written rows' own
        topic mix goes into this column's weights instead of the intercepts real comments get."""
        written = np.array([not self.rows[i].is_real for i in self.fit_idx], dtype=np.float32)[:, None]
        return written, np.zeros((len(self.val_idx), 1), dtype=np.float32)

    def written_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """The sentence vector again on written training rows only (feature augmentation by domain):
        what reads as a topic only in written comments can go there, not into the shared weights."""
        flag, _ = self.written_flag()
        return self.fit_vec * flag, np.zeros_like(self.val_vec)

    def knn(self, k: int, power: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        t = self.tables()
        return (knn_distribution(*t["fit"], self.onehot, k, power),
                knn_distribution(*t["val"], self.onehot, k, power))

    def class_sims(self, top: int = 3) -> tuple[np.ndarray, np.ndarray]:
        if not hasattr(self, "_class_sims"):
            self._class_sims = (
                class_similarity(self.fit_vec, self.fit_vec, self.fit_groups, self.fit_groups,
                                 self.fit_labels, top),
                class_similarity(self.val_vec, self.fit_vec, None, self.fit_groups, self.fit_labels, top))
        return self._class_sims

    def lr_with(self, extra: tuple[np.ndarray, np.ndarray] | None, weight: float,
                candidate: selection.Candidate = SHIPPED) -> np.ndarray:
        """The shipped LR on the shipped union, plus an extra dense block scaled by `weight`."""
        fit, val = selection.stacked(self.blocks, candidate, 0), selection.stacked(self.blocks, candidate, 1)
        if extra is not None:
            fit = sp.hstack([fit, sp.csr_matrix(extra[0] * weight)], format="csr")
            val = sp.hstack([val, sp.csr_matrix(extra[1] * weight)], format="csr")
        classifier = topic.build_classifier(candidate.c, topic.SEED, candidate.class_weight)
        classifier.fit(fit, self.fit_labels)
        order = [list(classifier.classes_).index(t) for t in TOPICS]
        return classifier.predict_proba(val)[:, order]

    def mlp(self, hidden: int = 256, alpha: float = 1e-3) -> np.ndarray:
        """One hidden layer on the sentence vector; prior-corrected to balanced classes."""
        net = MLPClassifier(hidden_layer_sizes=(hidden,), alpha=alpha, early_stopping=True,
                            random_state=topic.SEED, max_iter=300)
        net.fit(self.fit_vec, self.fit_labels)
        order = [list(net.classes_).index(t) for t in TOPICS]
        return balance(net.predict_proba(self.val_vec)[:, order], self.onehot.mean(axis=0))

    def nystroem(self, components: int, gamma: float) -> tuple[np.ndarray, np.ndarray]:
        """RBF-kernel features of the sentence vector (a nonlinear head a linear model can use), unit rows."""
        mapper = Nystroem(gamma=gamma, n_components=components, random_state=topic.SEED).fit(self.fit_vec)
        return unit_rows(mapper.transform(self.fit_vec)), unit_rows(mapper.transform(self.val_vec))

    def stacked_boosting(self, use_vectors: bool = True) -> np.ndarray:
        """Gradient boosting on [sentence vector + out-of-fold shipped-LR probabilities] (stacking)."""
        inner = np.zeros((len(self.fit_texts), len(TOPICS)))
        splitter = StratifiedGroupKFold(n_splits=topic.CV_FOLDS, shuffle=True, random_state=topic.SEED)
        for a, b in splitter.split(self.fit_texts, self.fit_strata, self.fit_groups):
            blocks = selection.feature_blocks(self.fit_texts[a], self.fit_texts[b], self.cache)
            inner[b] = selection.fit_and_predict(blocks, SHIPPED, self.fit_labels[a], topic.SEED,
                                                 written=np.zeros(len(a), dtype=bool))
        outer = self.lr_with(None, 0.0)
        fit_x = np.log(np.maximum(inner, 1e-9))
        val_x = np.log(np.maximum(outer, 1e-9))
        if use_vectors:
            fit_x, val_x = np.hstack([fit_x, self.fit_vec]), np.hstack([val_x, self.val_vec])
        booster = HistGradientBoostingClassifier(max_iter=300, learning_rate=0.05, early_stopping=True,
                                                 class_weight=None, random_state=topic.SEED)
        booster.fit(fit_x, self.fit_labels)
        order = [list(booster.classes_).index(t) for t in TOPICS]
        return booster.predict_proba(val_x)[:, order]


def balance(proba: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Divide out the training prior (what balanced class weights do to a calibrated model)."""
    adjusted = proba / np.maximum(prior, 1e-9)
    return adjusted / adjusted.sum(axis=1, keepdims=True)


def geometric(a: np.ndarray, b: np.ndarray, share: float) -> np.ndarray:
    mixed = np.exp((1 - share) * np.log(np.maximum(a, 1e-12)) + share * np.log(np.maximum(b, 1e-12)))
    return mixed / mixed.sum(axis=1, keepdims=True)


# Each variant maps a Fold to its probabilities for the scored rows (TOPICS order).
FITTED: dict[str, Callable[[Fold], np.ndarray]] = {
    "shipped": lambda f: f.lr_with(None, 0.0),
    "knn20_w1": lambda f: f.lr_with(f.knn(20), 1.0),
    "knn20_w3": lambda f: f.lr_with(f.knn(20), 3.0),
    "knn50_w1": lambda f: f.lr_with(f.knn(50), 1.0),
    "knn10_w1": lambda f: f.lr_with(f.knn(10), 1.0),
    "classsim3_w1": lambda f: f.lr_with(f.class_sims(3), 1.0),
    "classsim3_w3": lambda f: f.lr_with(f.class_sims(3), 3.0),
    "knn_raw20": lambda f: f.knn(20)[1],
    "knn_raw50": lambda f: f.knn(50)[1],
    "nys500_g1": lambda f: f.lr_with(f.nystroem(500, 1.0), 1.0),
    "nys1000_g2": lambda f: f.lr_with(f.nystroem(1000, 2.0), 1.0),
    "nys1000_g2_w0.5": lambda f: f.lr_with(f.nystroem(1000, 2.0), 0.5),
    "stack_hgb_unweighted": lambda f: f.stacked_boosting(True),
    "stack_hgb_probs_only_unweighted": lambda f: f.stacked_boosting(False),
    "tokenmax_w1": lambda f: f.lr_with(f.pooled["token_max"], 1.0),
    "spanmax_w1": lambda f: f.lr_with(f.pooled["span_max"], 1.0),
    "spanmax_w0.5": lambda f: f.lr_with(f.pooled["span_max"], 0.5),
    "layer4_w1": lambda f: f.lr_with(f.layers["layer4"], 1.0),
    "layer3_w1": lambda f: f.lr_with(f.layers["layer3"], 1.0),
    "layermean_w1": lambda f: f.lr_with(f.layers["layer_mean"], 1.0),
    "layer4_w0.5": lambda f: f.lr_with(f.layers["layer4"], 0.5),
    "srcflag_w1": lambda f: f.lr_with(f.written_flag(), 1.0),
    "srcflag_w3": lambda f: f.lr_with(f.written_flag(), 3.0),
    "srcemb_w1": lambda f: f.lr_with(f.written_vectors(), 1.0),
    "mlp256": lambda f: f.mlp(256),
    "mlp512_a1e-2": lambda f: f.mlp(512, 1e-2),
}


def out_of_fold(name: str, rows: Sequence[LabeledComment], division: list[Fold], tag: str) -> np.ndarray:
    """A variant's out-of-fold probabilities, fitted once and kept on disk."""
    path = OUT / f"{tag}-{name}.npy"
    if path.exists():
        return np.load(path)
    proba = np.zeros((len(rows), len(TOPICS)))
    for number, fold in enumerate(division, start=1):
        start = time.perf_counter()
        proba[fold.val_idx] = FITTED[name](fold)
        say(f"{tag} {name}: fold {number} in {time.perf_counter() - start:.0f}s")
    OUT.mkdir(parents=True, exist_ok=True)
    np.save(path, proba)
    return proba


def report(name: str, proba: np.ndarray, baseline: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> str:
    """Criterion, its SE, without privacy, all rows, and the paired gain over the shipped design."""
    predicted = np.array(topic.decide_topics(proba, 0.0))
    base = np.array(topic.decide_topics(baseline, 0.0))
    t, p, b = list(truth[mask]), list(predicted[mask]), list(base[mask])
    gain = evaluation.macro_f1_gain(t, p, b)
    per = evaluation.metrics(t, p)["per_class"]
    return (f"{name:28s} {evaluation.macro_f1(t, p):.4f} ({evaluation.macro_f1_standard_error(t, p):.4f})"
            f"  w/o privacy {evaluation.without_label(t, p, 'privacy'):.4f}"
            f"  all {evaluation.macro_f1(truth, predicted):.4f}  gain {gain}"
            f"  per-class " + " ".join(f"{c[:4]} {per[c]['f1']:.2f}" for c in TOPICS))


def span_pools(states: np.ndarray, length: int, window: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """Max over tokens, and max over windows of `window` tokens of their mean (the most topical span)."""
    inner = states[1:length - 1] if length > 2 else states[:length]
    token_max = inner.max(axis=0)
    stride = window // 2
    starts = range(0, max(len(inner) - window, 0) + 1, stride)
    spans = np.stack([inner[s:s + window].mean(axis=0) for s in starts])
    spans /= np.maximum(np.linalg.norm(spans, axis=1, keepdims=True), 1e-12)
    return token_max, spans.max(axis=0)


def encoded_batches(texts: Sequence[str]) -> Iterator[tuple[np.ndarray, list[np.ndarray], np.ndarray]]:
    """Each forward batch of `texts` as the encoder plans it: its rows, token states after every
    layer, and the real-token lengths (one pass, with a progress line per 2,000 texts)."""
    model = embeddings.get_model()
    embeddings.use_one_blas_thread()
    ids = model.token_ids(texts)
    lengths = np.asarray([len(row) for row in ids], dtype=np.int64)
    done = 0
    for rows in embeddings.plan_batches(lengths, embeddings.BATCH_TOKENS):
        mask = np.arange(lengths[rows[0]]) < lengths[rows][:, None]
        batch = np.zeros(mask.shape, dtype=np.int64)
        batch[mask] = np.concatenate([ids[row] for row in rows])
        yield rows, list(model.layer_outputs(batch, mask)), mask
        done += len(rows)
        if done // 2000 != (done - len(rows)) // 2000:
            say(f"encoded {done}/{len(texts)}")


def cached_vectors(path: Path, rows: Sequence[LabeledComment], names: Sequence[str],
                   fill: Callable[[Sequence[str], dict[str, np.ndarray]], None]) -> dict[str, np.ndarray]:
    """Named vectors of every labeled text, computed once by `fill` into an .npz; unit rows for `rows`."""
    if not path.exists():
        texts = sorted({r.text for r in dataset.load_labeled()})
        out = {name: np.empty((len(texts), embeddings.DIM), dtype=np.float32) for name in names}
        fill(texts, out)
        OUT.mkdir(parents=True, exist_ok=True)
        np.savez(path, texts=np.array(texts, dtype=object), **out)
    with np.load(path, allow_pickle=True) as data:
        where = {t: i for i, t in enumerate(data["texts"].tolist())}
        index = [where[r.text] for r in rows]
        return {name: unit_rows(data[name][index]) for name in names}


def fill_span_pools(texts: Sequence[str], out: dict[str, np.ndarray]) -> None:
    for rows, states, mask in encoded_batches(texts):
        for j, row in enumerate(rows):
            out["token_max"][row], out["span_max"][row] = span_pools(states[-1][j], int(mask[j].sum()))


def fill_layer_means(texts: Sequence[str], out: dict[str, np.ndarray]) -> None:
    for rows, states, mask in encoded_batches(texts):
        pooled = [embeddings.mean_pool(layer, mask) for layer in states]
        out["layer3"][rows], out["layer4"][rows] = pooled[2], pooled[3]
        out["layer_mean"][rows] = np.mean([unit_rows(p) for p in pooled], axis=0)


def pooled_vectors(rows: Sequence[LabeledComment]) -> dict[str, np.ndarray]:
    """Token-max and span-max vectors of the last layer (cached on disk)."""
    return cached_vectors(OUT / "pooled.npz", rows, ("token_max", "span_max"), fill_span_pools)


def layer_vectors(rows: Sequence[LabeledComment]) -> dict[str, np.ndarray]:
    """Mean-pooled vectors after layers 3 and 4, and the mean of all six layers' (cached on disk)."""
    return cached_vectors(OUT / "layers.npz", rows, ("layer3", "layer4", "layer_mean"), fill_layer_means)


def sentence_vectors(rows: Sequence[LabeledComment]) -> np.ndarray:
    cache = topic.embedding_cache()
    return unit_rows(embeddings.cached_encode([r.text for r in rows], cache).astype(np.float32))


def group_ids(rows: Sequence[LabeledComment]) -> np.ndarray:
    names = [dataset.normalized(r.text) for r in rows]
    index = {n: i for i, n in enumerate(dict.fromkeys(names))}
    return np.array([index[n] for n in names])


def cross_validate(variants: Sequence[str], blends: bool) -> None:
    rows = dataset.split(dataset.load_labeled(), topic.SEED).train
    truth = np.array([r.topic for r in rows])
    mask = selection.criterion_mask(rows)
    vectors, groups = sentence_vectors(rows), group_ids(rows)
    division = [Fold(rows, fit, val, vectors, groups, topic.embedding_cache())
                for fit, val in folds(rows, topic.SEED)]
    proba = {name: out_of_fold(name, rows, division, "cv") for name in variants}
    base = proba["shipped"]
    for name in variants:
        print(report(name, proba[name], base, truth, mask), flush=True)
    if blends:
        for other in [v for v in variants if v.startswith(("knn_raw", "mlp"))]:
            prior = np.mean(truth[:, None] == np.array(TOPICS)[None, :], axis=0)
            side = balance(proba[other], prior) if other.startswith("knn_raw") else proba[other]
            for share in (0.1, 0.2, 0.3, 0.5):
                print(report(f"blend {other} {share}", (1 - share) * base + share * side, base, truth, mask))
                print(report(f"geo {other} {share}", geometric(base, side, share), base, truth, mask))


def leave_one_source_out(variants: Sequence[str], training_split_only: bool = False) -> None:
    """Fixed designs (no reselection): fit on every row of the other sources, score on the left-out one.

    `training_split_only` does the same inside the training split (the held-out split never read),
    as a selection criterion could.
    """
    all_rows = dataset.load_labeled()
    if training_split_only:
        all_rows = dataset.split(all_rows, topic.SEED).train
    vectors, groups = sentence_vectors(all_rows), group_ids(all_rows)
    for source in REAL_SOURCES:
        is_source = np.array([r.source == source for r in all_rows])
        fit_idx, val_idx = np.flatnonzero(~is_source), np.flatnonzero(is_source)
        fold = Fold(all_rows, fit_idx, val_idx, vectors, groups, topic.embedding_cache())
        truth = np.array([all_rows[i].topic for i in val_idx])
        scored = {}
        for name in variants:
            path = OUT / f"loso{'-train' if training_split_only else ''}-{source}-{name}.npy"
            if not path.exists():
                start = time.perf_counter()
                OUT.mkdir(parents=True, exist_ok=True)
                np.save(path, FITTED[name](fold))
                say(f"without {source} {name} in {time.perf_counter() - start:.0f}s")
            scored[name] = np.load(path)
        everything = np.ones(len(truth), dtype=bool)
        for name in variants:
            print(f"without {source}: " + report(name, scored[name], scored["shipped"], truth, everything),
                  flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("cv", "loso", "loso-train"))
    parser.add_argument("--variants", nargs="+", default=["shipped"])
    parser.add_argument("--blends", action="store_true")
    args = parser.parse_args()
    variants = ["shipped", *[v for v in args.variants if v != "shipped"]]
    if args.mode == "cv":
        cross_validate(variants, args.blends)
    else:
        leave_one_source_out(variants, training_split_only=args.mode == "loso-train")


if __name__ == "__main__":
    main()
