"""The `demo` data set: a few thousand deterministic objects that exercise the whole mapping.

Collections cover every data type, a legacy vector, named and multi-vectors, every index type and
distance, multi-tenancy with an inactive tenant, single- and multi-target references (including
dangling ones), missing properties, an empty collection, and a module-configured collection
(`DemoProducts`: two text2vec named vectors filled by the stand-in vectorizer, generative and
reranker modules, per-property tokenizations, stopword additions, every inverted index option). Names are valid Milvus names too.
Everything goes through the server's own validation, so the seed is stored exactly as a client
import would be; values come from fixed seeds and UUIDs from uuid5.
"""

from __future__ import annotations

import base64
import random
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from .objects import ObjectInput, put_batch
from .schema_json import build_class
from .store import Collection, Store
from .values import beacon
from .vectors import pack_multi, pack_single

NAMESPACE = uuid.UUID("6f1d3c1e-2b7a-4c55-9a40-6d2f0b9e7a11")
AUTHORS = 150
ARTICLES = 1500
LEGACY = 500
TENANT_OBJECTS = {"tenant_a": 300, "tenant_b": 200, "tenant_c": 100}
INACTIVE_TENANT = "tenant_c"
INDEX_OBJECTS = 200
DANGLING = 5
PRODUCTS = 240
DEMO_COUNTS: Mapping[str, int] = {
    "DemoAuthor": AUTHORS,
    "DemoArticle": ARTICLES,
    "DemoLegacy": LEGACY,
    "DemoTenants": sum(TENANT_OBJECTS.values()),
    "DemoIndexes": INDEX_OBJECTS,
    "DemoEmpty": 0,
    "DemoProducts": PRODUCTS,
}
"""Objects per demo collection (per tenant for DemoTenants: see TENANT_OBJECTS)."""


def demo_uuid(collection: str, index: int | str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{collection}/{index}"))


def _named(index_type: str, distance: str, *, multi: bool = False) -> dict[str, Any]:
    config: dict[str, Any] = {"distance": distance}
    if multi:
        config["multivector"] = {"enabled": True}
    return {"vectorizer": {"none": {}}, "vectorIndexType": index_type, "vectorIndexConfig": config}


def _p(name: str, data_type: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "dataType": [data_type], **extra}


CLASSES: tuple[dict[str, Any], ...] = (
    {
        "class": "DemoAuthor",
        "description": "Authors referenced by DemoArticle",
        "vectorConfig": {"default": _named("hnsw", "cosine")},
        "properties": [
            _p("name", "text"),
            _p("bio", "text"),
            _p("born", "date"),
            _p("rating", "number"),
            _p("verified", "boolean"),
        ],
    },
    {
        "class": "DemoArticle",
        "description": "Every data type, three named vectors (one multi-vector), references",
        "vectorConfig": {
            "title_vec": _named("hnsw", "cosine"),
            "body_vec": _named("flat", "dot"),
            "colbert": _named("hnsw", "cosine", multi=True),
        },
        "properties": [
            _p("title", "text"),
            _p("tags", "text[]"),
            _p("views", "int"),
            _p("scores", "int[]"),
            _p("price", "number"),
            _p("weights", "number[]"),
            _p("published", "boolean"),
            _p("flags", "boolean[]"),
            _p("created_at", "date"),
            _p("dates", "date[]"),
            _p("ref_id", "uuid"),
            _p("ref_ids", "uuid[]"),
            _p("location", "geoCoordinates"),
            _p("phone", "phoneNumber"),
            _p("thumbnail", "blob"),
            _p(
                "meta",
                "object",
                nestedProperties=[
                    _p("source", "text"),
                    _p("level", "int"),
                    _p("info", "object", nestedProperties=[_p("lang", "text"), _p("keywords", "text[]")]),
                ],
            ),
            _p("sections", "object[]", nestedProperties=[_p("heading", "text"), _p("words", "int")]),
            {"name": "author", "dataType": ["DemoAuthor"]},
            {"name": "related", "dataType": ["DemoArticle", "DemoAuthor"]},
        ],
    },
    {
        "class": "DemoLegacy",
        "vectorizer": "none",
        "vectorIndexType": "hnsw",
        "vectorIndexConfig": {"distance": "l2-squared"},
        "properties": [_p("label", "text"), _p("rank", "int")],
    },
    {
        "class": "DemoTenants",
        "multiTenancyConfig": {"enabled": True},
        "vectorConfig": {"default": _named("hnsw", "cosine")},
        "properties": [_p("note", "text"), _p("amount", "number"), _p("day", "date")],
    },
    {
        "class": "DemoIndexes",
        "vectorConfig": {
            "hnsw_dot": _named("hnsw", "dot"),
            "dynamic_manhattan": _named("dynamic", "manhattan"),
            "hfresh_cosine": _named("hfresh", "cosine"),
            "flat_hamming": _named("flat", "hamming"),
        },
        "properties": [_p("code", "text")],
    },
    {"class": "DemoEmpty", "properties": [_p("label", "text"), _p("count", "int")]},
    {
        "class": "DemoProducts",
        "description": "Module-configured: text2vec named vectors, generative and reranker modules",
        "vectorConfig": {
            "name_vec": {
                "vectorizer": {
                    "text2vec-openai": {
                        "properties": ["name"],
                        "model": "text-embedding-3-small",
                        "dimensions": 256,
                    }
                },
                "vectorIndexType": "hnsw",
            },
            "description_vec": {
                "vectorizer": {
                    "text2vec-cohere": {"model": "embed-english-light-v3.0", "vectorizeClassName": False}
                },
                "vectorIndexType": "hnsw",
            },
        },
        "moduleConfig": {"generative-openai": {"model": "gpt-4o-mini"}, "reranker-cohere": {}},
        "invertedIndexConfig": {
            "bm25": {"k1": 1.5, "b": 0.7},
            "stopwords": {"preset": "en", "additions": ["demo"], "removals": ["not"]},
            "indexTimestamps": True,
            "indexNullState": True,
            "indexPropertyLength": True,
        },
        "properties": [
            _p("name", "text"),
            _p("description", "text"),
            _p("category", "text", tokenization="field"),
            _p("tags", "text[]", tokenization="lowercase"),
            _p("sku", "text", tokenization="whitespace", moduleConfig={"text2vec-cohere": {"skip": True}}),
            _p("price", "number", indexRangeFilters=True),
            _p("in_stock", "boolean"),
            _p("released", "date"),
        ],
    },
)
_ADJECTIVES = ("Red", "Quiet", "Rapid", "Golden", "Compact", "Smart", "Vintage", "Solar")
_NOUNS = ("Kettle", "Lamp", "Backpack", "Speaker", "Bicycle", "Notebook", "Camera", "Chair")
_CATEGORIES = ("Home Goods", "Outdoor", "Electronics", "Office")
INDEX_DIM = 12


def seed_demo(store: Store) -> None:
    """Create the demo collections and objects; fails if any of them already exists."""
    rng = random.Random(20240101)
    vec = np.random.default_rng(7)
    with store.lock:
        for body in CLASSES:
            class_json = build_class(body, store.collections, store.modules)
            store.collections[class_json["class"]] = Collection(class_json)
        _load(store, _authors(rng, vec))
        ghosts = [
            ObjectInput("DemoAuthor", "", demo_uuid("DemoAuthor", f"ghost{i}"), {"name": f"Ghost {i}"})
            for i in range(DANGLING)
        ]
        _load(store, ghosts)
        for start in range(0, ARTICLES, 100):
            _load(store, _articles(rng, vec, start, min(start + 100, ARTICLES)))
        authors = store.collections["DemoAuthor"].shards[""]
        for ghost in ghosts:
            authors.delete(uuid.UUID(ghost.uuid).bytes)
        _load(store, _legacy(rng, vec))
        tenants = store.collections["DemoTenants"]
        for name in TENANT_OBJECTS:
            store.set_tenant(tenants, name, "HOT")
        _load(store, _tenant_objects(rng, vec))
        tenants.tenants[INACTIVE_TENANT] = "COLD"
        _load(store, _index_objects(vec))
        _load(store, _products(rng))


def _load(store: Store, inputs: list[ObjectInput]) -> None:
    errors = put_batch(store, list(enumerate(inputs)))
    if errors:
        raise RuntimeError(f"demo seed rejected objects: {errors}")


def _vector(vec: np.random.Generator, dim: int) -> bytes:
    return pack_single(vec.standard_normal(dim, dtype=np.float32).tolist())


def _date(rng: random.Random, index: int) -> str:
    day = 1 + index % 28
    offset = rng.choice(["Z", "+02:00", "-05:00"])
    fraction = rng.choice(["", ".5", ".123456"])
    date = f"{2000 + index % 25:04d}-{1 + index % 12:02d}-{day:02d}"
    return f"{date}T{index % 24:02d}:{index % 60:02d}:07{fraction}{offset}"


def _authors(rng: random.Random, vec: np.random.Generator) -> list[ObjectInput]:
    out = []
    for i in range(AUTHORS):
        props: dict[str, Any] = {"name": f"Author {i}", "born": _date(rng, i), "verified": i % 3 == 0}
        if i % 10:
            props["bio"] = f"Writes about topic {i % 17} and more"
            props["rating"] = round(rng.uniform(0, 5), 3)
        out.append(
            ObjectInput(
                "DemoAuthor",
                "",
                demo_uuid("DemoAuthor", i),
                props,
                vectors={"default": (_vector(vec, 16), False)},
            )
        )
    return out


def _article_props(rng: random.Random, i: int) -> dict[str, Any]:
    props: dict[str, Any] = {
        "title": f"Article {i}: on subject {i % 37}",
        "tags": [f"tag{(i + k) % 11}" for k in range(i % 4)],
        "views": i * 1000 + rng.randrange(1000),
        "scores": [rng.randrange(-50, 50) for _ in range(i % 5)],
        "weights": [round(rng.uniform(-1, 1), 6) for _ in range(1 + i % 3)],
        "published": i % 2 == 0,
        "flags": [k % 2 == i % 2 for k in range(i % 3)],
        "created_at": _date(rng, i),
        "dates": [_date(rng, i + k) for k in range(i % 3)],
        "ref_id": demo_uuid("ref", i),
        "ref_ids": [demo_uuid("ref", i + k) for k in range(i % 3)],
        "location": {
            "latitude": round(rng.uniform(-90, 90), 5),
            "longitude": round(rng.uniform(-180, 180), 5),
        },
        "sections": [{"heading": f"Part {k}", "words": 100 * k + i % 50} for k in range(i % 3)],
    }
    if i % 7:
        props["price"] = round(rng.uniform(1, 500), 2)
        props["phone"] = (
            {"input": f"+31 6 {10000000 + i}"}
            if i % 2
            else {"input": f"06 {20000000 + i}", "defaultCountry": "NL"}
        )
        props["thumbnail"] = base64.b64encode(f"thumbnail-{i}".encode()).decode()
        props["meta"] = {"source": rng.choice(["web", "print", "radio"]), "level": i % 4}
        if i % 3 == 0:
            props["meta"]["info"] = {"lang": rng.choice(["en", "nl", "de"]), "keywords": [f"k{i % 9}"]}
    return props


def _articles(rng: random.Random, vec: np.random.Generator, start: int, stop: int) -> list[ObjectInput]:
    out = []
    for i in range(start, stop):
        props = _article_props(rng, i)
        if i < DANGLING:
            author = beacon("DemoAuthor", demo_uuid("DemoAuthor", f"ghost{i}"))
        else:
            author = beacon("DemoAuthor", demo_uuid("DemoAuthor", i % AUTHORS))
        props["author"] = [{"beacon": author}]
        related = [beacon("DemoAuthor", demo_uuid("DemoAuthor", (i * 7) % AUTHORS))]
        if i >= 100:
            related.insert(0, beacon("DemoArticle", demo_uuid("DemoArticle", i - 100)))
        if i % 5:
            props["related"] = [{"beacon": b} for b in related]
        tokens = 2 + i % 3
        vectors = {
            "title_vec": (_vector(vec, 32), False),
            "body_vec": (_vector(vec, 16), False),
            "colbert": (pack_multi(vec.standard_normal((tokens, 8), dtype=np.float32).tolist()), True),
        }
        out.append(ObjectInput("DemoArticle", "", demo_uuid("DemoArticle", i), props, vectors=vectors))
    return out


def _legacy(rng: random.Random, vec: np.random.Generator) -> list[ObjectInput]:
    return [
        ObjectInput(
            "DemoLegacy",
            "",
            demo_uuid("DemoLegacy", i),
            {"label": f"legacy {i}", "rank": rng.randrange(10**6)},
            vector=_vector(vec, 24),
        )
        for i in range(LEGACY)
    ]


def _tenant_objects(rng: random.Random, vec: np.random.Generator) -> list[ObjectInput]:
    out = []
    for tenant, count in TENANT_OBJECTS.items():
        for i in range(count):
            props = {
                "note": f"{tenant} note {i}",
                "amount": round(rng.uniform(0, 100), 2),
                "day": _date(rng, i),
            }
            out.append(
                ObjectInput(
                    "DemoTenants",
                    tenant,
                    demo_uuid(f"DemoTenants/{tenant}", i),
                    props,
                    vectors={"default": (_vector(vec, 8), False)},
                )
            )
    return out


def _index_objects(vec: np.random.Generator) -> list[ObjectInput]:
    names = ("hnsw_dot", "dynamic_manhattan", "hfresh_cosine")

    def vectors() -> Iterator[tuple[str, tuple[bytes, bool]]]:
        for name in names:
            yield name, (_vector(vec, INDEX_DIM), False)
        bits = vec.integers(0, 2, INDEX_DIM).astype(np.float32).tolist()
        yield "flat_hamming", (pack_single(bits), False)

    return [
        ObjectInput(
            "DemoIndexes", "", demo_uuid("DemoIndexes", i), {"code": f"C{i:04d}"}, vectors=dict(vectors())
        )
        for i in range(INDEX_OBJECTS)
    ]


def _products(rng: random.Random) -> list[ObjectInput]:
    """Objects without vectors: the stand-in vectorizer fills both named vectors on insert."""
    out = []
    for i in range(PRODUCTS):
        adjective, noun = _ADJECTIVES[i % len(_ADJECTIVES)], _NOUNS[(i // len(_ADJECTIVES)) % len(_NOUNS)]
        props: dict[str, Any] = {
            "name": f"{adjective} {noun} {i}",
            "description": f"A {adjective.lower()} {noun.lower()} for the demo, model {i % 13}; not refurbished",
            "category": _CATEGORIES[i % len(_CATEGORIES)],
            "tags": [adjective, noun.upper()][: 1 + i % 2],
            "sku": f"SKU-{i:05d} {noun[:3].upper()}",
            "in_stock": i % 3 != 0,
            "released": _date(rng, i),
        }
        if i % 9:
            props["price"] = round(rng.uniform(5, 900), 2)
        out.append(ObjectInput("DemoProducts", "", demo_uuid("DemoProducts", i), props))
    return out
