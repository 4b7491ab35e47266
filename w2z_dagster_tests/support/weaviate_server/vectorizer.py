"""The one fake part of the modules: a deterministic stand-in for the embedding model.

What is embedded is exactly what Weaviate would send to the module (`object_texts.go`): the class
name split at camel case when `vectorizeClassName`, then the object's properties in sorted name
order (only the `properties` of a named vector when it lists source properties, otherwise every
property not marked `skip`), each value optionally prefixed with its property name; without source
properties only text values count. The model is replaced by feature hashing: every lower-cased word
adds a pseudo-random direction drawn from SHAKE-256 of the word, and the sum is normalised. That is
stable across runs, processes and machines, has the model's dimension, and texts that share words
are closer, so `near_text` and hybrid rankings mean something.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np

from .class_info import ClassInfo, VectorSpec
from .errors import ServerError
from .text_analysis import tokenize

_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+|[^A-Za-z\d]+")


def split_camel_case(name: str) -> str:
    """`separateCamelCase`: "WineReview" -> "Wine Review" (fatih/camelcase, parts joined by spaces)."""
    return " ".join(part for part in _CAMEL.findall(name) if part != " ")


def _format(value: Any) -> str | None:
    """Non-text values as Go's `%v` prints them; only used with source properties, as in Weaviate."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    if isinstance(value, str):
        return value
    return None


def object_text(info: ClassInfo, spec: VectorSpec, props: Mapping[str, Any]) -> str:
    """The text Weaviate hands the vectorizer for one object and one vector space."""
    module = spec.module
    assert module is not None
    settings = spec.settings
    sources = list(settings.get("properties") or [])
    corpus: list[str] = []
    if settings.get("vectorizeClassName", True):
        corpus.append(split_camel_case(info.name))
    for name in sorted(props):
        prop = info.props.get(name)
        if prop is None:
            continue
        prop_settings = prop.module_config.get(spec.module_name) or {}
        if sources:
            if name not in sources:
                continue
        elif prop_settings.get("skip", False):
            continue
        value = props[name]
        items = value if isinstance(value, list) else [value]
        is_text = prop.data_type in ("text", "text[]")
        if not is_text and not sources:
            continue
        texts = [t for t in (_format(v) if not is_text else v for v in items) if t is not None]
        for text in texts:
            if prop_settings.get("vectorizePropertyName", False):
                text = f"{split_camel_case(name)} {text}"
            corpus.append(text)
    if not sources and not corpus:
        corpus.append(split_camel_case(info.name))
    return " ".join(corpus)


@lru_cache(maxsize=4096)
def _direction(word: str, dims: int) -> np.ndarray:
    raw = np.frombuffer(hashlib.shake_256(word.encode()).digest(4 * dims), dtype="<i4")
    return raw.astype(np.float64) / 2**31


def embed(text: str, dims: int) -> np.ndarray:
    """A unit float32 vector for `text`: the normalised sum of its words' hashed directions."""
    words = tokenize("word", text) or [text]
    total = np.zeros(dims, dtype=np.float64)
    for word in words:
        total += _direction(word, dims)
    norm = np.linalg.norm(total)
    return (total / norm if norm else total).astype("<f4")


def vectorize(info: ClassInfo, spec: VectorSpec, props: Mapping[str, Any]) -> bytes:
    """The stand-in vector of one object for a module-vectorized space, as wire bytes."""
    module = spec.module
    assert module is not None
    dims = module.dimension(spec.settings)
    if module.kind == "multi2vec":
        return _multi2vec(info, spec, props, dims).tobytes()
    return embed(object_text(info, spec, props), dims).tobytes()


def _multi2vec(info: ClassInfo, spec: VectorSpec, props: Mapping[str, Any], dims: int) -> np.ndarray:
    """Each configured text/image field embedded alone, then the (weighted) mean, as multi2vec does."""
    settings = spec.settings
    fields = [
        (name, kind)
        for kind in ("textFields", "imageFields", "audioFields", "videoFields")
        for name in settings.get(kind) or []
    ]
    weights_cfg = settings.get("weights") or {}
    vectors, weights = [], []
    for name, kind in fields:
        value = props.get(name)
        if value is None:
            continue
        vectors.append(embed(str(value), dims))
        kind_weights = weights_cfg.get(kind.replace("Fields", "FieldsWeights")) or []
        position = (settings.get(kind) or []).index(name)
        weights.append(kind_weights[position] if position < len(kind_weights) else 1.0)
    if not vectors:
        return embed(split_camel_case(info.name), dims)
    mean = np.average(np.stack(vectors), axis=0, weights=weights)
    norm = np.linalg.norm(mean)
    return (mean / norm if norm else mean).astype("<f4")


def embed_query(spec: VectorSpec, concepts: list[str]) -> np.ndarray:
    """`near_text` / hybrid query text through the same stand-in; several concepts are averaged."""
    if spec.module is None:
        target = f" for target vector {spec.name}" if spec.name else ""
        raise ServerError(
            f"vectorize params: could not vectorize input{target}: no vectorizer module configured"
        )
    dims = spec.module.dimension(spec.settings)
    vectors = np.stack([embed(c, dims) for c in concepts or [""]])
    mean = vectors.mean(axis=0)
    norm = np.linalg.norm(mean)
    return (mean / norm if norm else mean).astype("<f4")
