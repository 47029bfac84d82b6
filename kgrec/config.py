"""All configuration in one place: environment variables with documented defaults.

Every other module takes a :class:`Settings` (usually ``Settings.from_env()``); nothing else reads
``os.environ`` for kgrec's own options.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

def _source_checkout() -> Path | None:
    """The repository root when kgrec runs from a source checkout (an editable install), else None."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").is_file() and (root / "graph" / "maven").is_dir() else None


#: the source checkout kgrec runs from, or None when it is installed from a wheel
REPO_ROOT: Path | None = _source_checkout()


def user_data_dir(env: dict[str, str] | None = None) -> Path:
    """The per-user data folder of the XDG spec: ``$XDG_DATA_HOME/kgrec``, else ``~/.local/share/kgrec``."""
    env = os.environ if env is None else env
    base = env.get("XDG_DATA_HOME") or ""
    # the spec says to ignore a relative XDG_DATA_HOME
    return (Path(base) if Path(base).is_absolute() else Path.home() / ".local" / "share") / "kgrec"


def default_home(env: dict[str, str] | None = None) -> Path:
    """``<repo>/.kgrec`` in a source checkout (what `make demo` and the tests use), else the per-user
    data folder: an installed package must never write into site-packages."""
    return REPO_ROOT / ".kgrec" if REPO_ROOT else user_data_dir(env)


def default_data_dir(home: Path) -> Path:
    """``<repo>/../shared/data`` in a source checkout, else ``<home>/data`` (where
    `kgrec data fetch movielens --dest` can put the originals)."""
    return REPO_ROOT.parent / "shared" / "data" if REPO_ROOT else home / "data"


def local_store_root(uri: str) -> Path:
    """The folder a model store URI names: a path (``/mnt/models``, ``~/models``) or a ``file://`` URI.
    Only local or shared (mounted) folders are implemented; another scheme (``s3://`` ...) is refused here
    with the way round it, so a typo never trains into a folder nobody serves from."""
    parts = urlsplit(uri)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"KGREC_MODEL_STORE {uri!r}: a file:// URI names no host (file:///path)")
        return Path(unquote(parts.path)).expanduser().resolve()
    # a bare path; a one-letter "scheme" is a Windows drive
    if parts.scheme and len(parts.scheme) > 1:
        raise ValueError(f"KGREC_MODEL_STORE {uri!r}: the {parts.scheme}:// scheme is not implemented; only a "
                         f"local or shared folder (a path or file:// URI): mount the store and give its path")
    return Path(uri).expanduser().resolve()


def _number(env: dict[str, str], name: str, default: float, kind: type = int) -> Any:
    """``env[name]`` parsed as ``kind`` (int or float), or ``default`` when unset or empty."""
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return kind(raw)
    except ValueError:
        what = "an integer" if kind is int else "a number"
        raise ValueError(f"{name} must be {what}, got {raw!r}") from None


def _int(env: dict[str, str], name: str, default: int) -> int:
    return _number(env, name, default, int)


def _float(env: dict[str, str], name: str, default: float) -> float:
    return _number(env, name, default, float)


@dataclass(frozen=True)
class Settings:
    """kgrec's options. See the README's "Configuration" table for each variable."""

    #: KGREC_HOME: where local state lives (Neo4j home, jars, models, rejects, locks)
    home: Path = field(default_factory=default_home)
    #: NEO4J_URI: an external server; when set, nothing local is started
    neo4j_uri: str | None = None
    #: NEO4J_USER
    neo4j_user: str = "neo4j"
    #: NEO4J_PASSWORD: the external server's password, or the local server's initial password
    neo4j_password: str | None = None
    #: NEO4J_DATABASE: None means the server's default database
    neo4j_database: str | None = None
    #: KGREC_BOLT_PORT / KGREC_HTTP_PORT: ports of the local server (always bound to 127.0.0.1)
    bolt_port: int = 7687
    http_port: int = 7474
    #: KGREC_NEO4J_LIB: the jars fetched from Maven Central (default <KGREC_HOME>/neo4j-lib)
    neo4j_lib_dir: Path | None = None
    #: KGREC_NEO4J_HEAP / KGREC_NEO4J_PAGECACHE: memory of the local server
    neo4j_heap: str = "1g"
    neo4j_pagecache: str = "512m"
    #: KGREC_DATA_DIR: the folder laid out like ../shared/data
    data_dir: Path = field(default_factory=lambda: default_data_dir(default_home()))
    #: KGREC_BATCH_SIZE: rows per UNWIND batch when writing
    batch_size: int = 5000
    #: KGREC_API_KEY: when set, every API endpoint but /health needs it
    api_key: str | None = None
    #: KGREC_CACHE_SECONDS / KGREC_CACHE_ENTRIES: how long and how many recommendation documents a serving
    #: process may serve again while the model version, the user and the graph are unchanged (0 = off)
    cache_seconds: float = 300.0
    cache_entries: int = 10000
    #: KGREC_COLD_SLOTS: slots of a top-k that may go to a "cold" item (new in the data, few interactions)
    #: whose attributes match the user's strongly; 0 = off (the default: on MovieLens it cost 3.8% NDCG@10)
    cold_slots: int = 0
    #: KGREC_SEED: seed for splits and training
    seed: int = 42
    #: KGREC_COLIKE_MIN_USERS / KGREC_COLIKE_TOP: CO_LIKED needs this many common likers (rating >= 4);
    #: each item keeps at most this many partners
    colike_min_users: int = 5
    colike_top: int = 50
    #: KGREC_MAX_REJECT_RATE: an ingest exits with code 3 when rejected rows exceed this share of rows read
    max_reject_rate: float = 0.01
    #: KGREC_EXPLAIN_MIN_TAG_USERS: a tag explains only when at least this many distinct users applied it
    #: (your own tags always may); KGREC_ENTITY_MIN_TAG_USERS: an item MENTIONS an entity its own text does
    #: not name only when at least this many distinct users' tags name it
    explain_min_tag_users: int = 2
    entity_min_tag_users: int = 2
    #: KGREC_SPACY_MODEL: "auto" (en_core_web_sm if installed, else blank), "blank", or a pipeline name/path
    spacy_model: str = "auto"
    #: KGREC_FETCH_BASE_URL: a mirror for `kgrec data fetch` (files at <base>/<host>/<path>); None = publishers
    fetch_base_url: str | None = None
    #: KGREC_TRAIN_EPOCHS_SCALE: multiplies every training epoch count (e.g. 0.1 for a smoke run)
    train_epochs_scale: float = 1.0
    #: KGREC_TRAIN_THREADS: CPU threads for training (torch, PyKEEN, implicit). Default 1: on the
    #: 2-core reference machine torch's sparse backward and PyKEEN ran 2-10x slower with 2 threads
    train_threads: int = 1
    #: KGREC_EASE_DENSE_MAX_ITEMS: above this many items (with >= 2 training interactions) the item-item model
    #: is EASE restricted to each item's KGREC_EASE_NEIGHBOURS most co-occurring items (ranking/sparse_items.py)
    #: instead of dense EASE, whose items x items inverse needs ~20 bytes x items² (4.5 GB at 15k)
    ease_dense_max_items: int = 15000
    ease_neighbours: int = 50
    #: KGREC_EVAL_MAX_CELLS: validation and test users are sampled so that users x items stays under this
    #: (every term scores them over the whole catalogue as dense float32 rows: ~10 such matrices at once)
    eval_max_cells: int = 100_000_000
    #: KGREC_TRAIN_BUDGET: PyKEEN trains for at most this many rows seen (epochs x triples): large catalogues
    #: get fewer epochs, MovieLens-sized ones their full count (LightGCN has its own wall-clock budget)
    train_budget: int = 10_000_000
    #: KGREC_MODEL_STORE: where model versions live, as a path or file:// URI (default <KGREC_HOME>/models).
    #: The graph records each version by its key in the store, so API replicas and the trainer on other
    #: machines share one mounted folder at any mount point. Only local/shared folders are implemented
    model_store: str | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = dict(os.environ if env is None else env)
        home = Path(env.get("KGREC_HOME") or default_home(env)).expanduser().resolve()
        return cls(
            home=home,
            neo4j_uri=env.get("NEO4J_URI") or None,
            neo4j_user=env.get("NEO4J_USER") or "neo4j",
            neo4j_password=env.get("NEO4J_PASSWORD") or None,
            neo4j_database=env.get("NEO4J_DATABASE") or None,
            bolt_port=_int(env, "KGREC_BOLT_PORT", 7687),
            http_port=_int(env, "KGREC_HTTP_PORT", 7474),
            neo4j_lib_dir=Path(env["KGREC_NEO4J_LIB"]).expanduser().resolve() if env.get("KGREC_NEO4J_LIB") else None,
            neo4j_heap=env.get("KGREC_NEO4J_HEAP") or "1g",
            neo4j_pagecache=env.get("KGREC_NEO4J_PAGECACHE") or "512m",
            data_dir=Path(env.get("KGREC_DATA_DIR") or default_data_dir(home)).expanduser(),
            batch_size=_int(env, "KGREC_BATCH_SIZE", 5000),
            api_key=env.get("KGREC_API_KEY") or None,
            seed=_int(env, "KGREC_SEED", 42),
            cold_slots=_int(env, "KGREC_COLD_SLOTS", 0),
            cache_seconds=_float(env, "KGREC_CACHE_SECONDS", 300.0),
            cache_entries=_int(env, "KGREC_CACHE_ENTRIES", 10000),
            train_epochs_scale=_float(env, "KGREC_TRAIN_EPOCHS_SCALE", 1.0),
            train_threads=max(1, _int(env, "KGREC_TRAIN_THREADS", 1)),
            ease_dense_max_items=_int(env, "KGREC_EASE_DENSE_MAX_ITEMS", 15000),
            ease_neighbours=max(1, _int(env, "KGREC_EASE_NEIGHBOURS", 50)),
            eval_max_cells=max(1, _int(env, "KGREC_EVAL_MAX_CELLS", 100_000_000)),
            train_budget=max(1, _int(env, "KGREC_TRAIN_BUDGET", 10_000_000)),
            colike_min_users=_int(env, "KGREC_COLIKE_MIN_USERS", 5),
            colike_top=_int(env, "KGREC_COLIKE_TOP", 50),
            max_reject_rate=_float(env, "KGREC_MAX_REJECT_RATE", 0.01),
            explain_min_tag_users=_int(env, "KGREC_EXPLAIN_MIN_TAG_USERS", 2),
            entity_min_tag_users=_int(env, "KGREC_ENTITY_MIN_TAG_USERS", 2),
            spacy_model=env.get("KGREC_SPACY_MODEL") or "auto",
            fetch_base_url=env.get("KGREC_FETCH_BASE_URL") or None,
            model_store=env.get("KGREC_MODEL_STORE") or None,
            extra={k: v for k, v in env.items() if k.startswith("KGREC_")},
        )

    @property
    def uses_local_server(self) -> bool:
        """True when kgrec runs its own Neo4j (no NEO4J_URI given)."""
        return self.neo4j_uri is None

    @property
    def neo4j_home(self) -> Path:
        return self.home / "neo4j"

    @property
    def neo4j_lib(self) -> Path:
        """The jars fetched from Maven Central (shared by every local server of this home)."""
        return self.neo4j_lib_dir or self.home / "neo4j-lib"

    @property
    def model_store_uri(self) -> str:
        """KGREC_MODEL_STORE as given, or the default folder as a file:// URI."""
        return self.model_store or (self.home / "models").as_uri()

    @property
    def models_dir(self) -> Path:
        """The model store's folder (ValueError for a store that is not a local or mounted folder)."""
        return local_store_root(self.model_store) if self.model_store else self.home / "models"

    @property
    def rejects_dir(self) -> Path:
        return self.home / "rejects"

    @property
    def pystow_home(self) -> Path:
        """PyKEEN keeps its files here instead of ~/.data (PYSTOW_HOME)."""
        return self.home / "pystow"
