"""Benchmark: large generated catalogues (issue 18, item 4) at three sizes, one local Neo4j per size.

    nice -n 15 .venv/bin/python bench/scale.py --sizes 10k 30k 100k --root /tmp/kgrec-scale [--stages ...]

Sizes (the products example of ``kgrec/examples.py``, planted taste groups, follows between users):

    10k:  10,000 items,  5,000 users,  ~200k interactions
    30k:  30,000 items, 15,000 users,  ~600k interactions
   100k: 100,000 items, 50,000 users,   ~2M interactions

Stages, each resumable (its result is kept in ``<root>/<size>/result.json``):

* ``generate``: the CSVs;
* ``components``: the item-item model alone from the CSV (positives only, no Neo4j): dense or sparse as
  training would pick, fit seconds for one L2 and for the whole grid, peak RSS, one profile scored p50/p99;
* ``scoring``: every blend term scoring one profile over the catalogue, with the CSV's attributes and
  popularity and trained-shape stand-ins for the learned vectors (timing only: where training has not run);
* ``ingest``: ``kgrec ingest csv`` (``--bulk`` with ``--bulk``) into an empty database, wall seconds;
* ``train``: ``kgrec train`` (tuning run, refit, evaluation, publish; ``--train-args=--no-refit`` skips the
  refit, ``--epochs-scale`` sets KGREC_TRAIN_EPOCHS_SCALE) as a child process: wall seconds, its peak RSS
  (``wait4``'s ``ru_maxrss``), the model directory's size, which item model it chose (dense EASE or sparse);
* ``serve``: in this process, the active version loaded as ``kgrec serve`` loads it, then recommend +
  explain (k=10, the service's own path) for ``--users`` random users, the cache off: p50 / p99 / mean.

Each size runs its own Neo4j home (``<root>/<size>/home``) on KGREC_BOLT_PORT / KGREC_HTTP_PORT, started
and stopped here, with KGREC_NEO4J_HEAP / KGREC_NEO4J_PAGECACHE as given (``--heap``, ``--pagecache``).
A measurement, not a test: prints a table and exits 0.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

#: items, users; 40 interactions and 2.5 social edges per user (2M and 125k at the largest)
SIZES = {"10k": (10_000, 5_000), "30k": (30_000, 15_000), "100k": (100_000, 50_000)}
STAGES = ("generate", "components", "scoring", "ingest", "train", "serve")
KGREC = str(Path(sys.executable).with_name("kgrec"))


def size_env(root: Path, size: str, args: argparse.Namespace) -> dict[str, str]:
    from kgrec.config import Settings

    env = dict(os.environ)
    # each size has its own home, and all use the jars this checkout fetched (`make jars`)
    env.setdefault("KGREC_NEO4J_LIB", str(Settings.from_env().neo4j_lib))
    env.update(KGREC_HOME=str(root / size / "home"), KGREC_NEO4J_HEAP=args.heap, KGREC_NEO4J_PAGECACHE=args.pagecache,
               KGREC_CACHE_SECONDS="0")
    if args.free_ports:  # a size's server beside another one (the ports kept per size, for its later stages)
        ports = root / size / "ports"
        if not ports.exists():
            ports.write_text(f"{_free_port()} {_free_port()}")
        bolt, http = ports.read_text().split()
        env.update(KGREC_BOLT_PORT=bolt, KGREC_HTTP_PORT=http)
    if args.epochs_scale is not None:
        env["KGREC_TRAIN_EPOCHS_SCALE"] = str(args.epochs_scale)
    return env


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_child(cmd: list[str], env: dict[str, str], log: Path) -> tuple[float, int]:
    """Run ``cmd`` to completion with its output appended to ``log``: (wall seconds, peak RSS in MiB)."""
    start = time.perf_counter()
    with log.open("a") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"{cmd[:3]} exited {code}: see {log}")
    return seconds, usage.ru_maxrss // 1024  # Linux: KiB


def generate(folder: Path, size: str) -> dict[str, object]:
    from kgrec.examples import ExampleSize
    from kgrec.examples import generate as gen

    items, users = SIZES[size]
    start = time.perf_counter()
    gen("products", folder, ExampleSize.scaled(items=items, users=users, interactions=40 * users, social=5 * users // 2))
    with (folder / "interactions.csv").open() as f:
        interactions = sum(1 for _ in f) - 1
    with (folder / "social.csv").open() as f:
        social = sum(1 for _ in f) - 1
    return {"items": items, "users": users, "interactions": interactions, "social_edges": social,
            "generate_s": round(time.perf_counter() - start, 1)}


def neo4j(action: str, env: dict[str, str], log: Path) -> None:
    run_child([KGREC, "neo4j", action], env, log)


def ingest(folder: Path, env: dict[str, str], log: Path, bulk: bool) -> dict[str, object]:
    cmd = [KGREC, "ingest", "csv", "--items", str(folder / "items.csv"), "--interactions",
           str(folder / "interactions.csv"), "--social", str(folder / "social.csv"), "--catalogue", "products",
           "--no-entities", "--quiet"] + (["--bulk"] if bulk else [])
    seconds, rss = run_child(cmd, env, log)
    return {"ingest_s": round(seconds, 1), "ingest_mode": "bulk" if bulk else "unwind", "ingest_rss_mib": rss}


def train(env: dict[str, str], log: Path, extra: list[str]) -> dict[str, object]:
    from kgrec.config import Settings

    seconds, rss = run_child([KGREC, "train", *extra], env, log)  # its stage log (no bars: not a terminal)
    settings = Settings.from_env(env)
    versions = sorted(p for p in settings.models_dir.iterdir() if p.is_dir() and not p.name.endswith(".partial"))
    directory = versions[-1]
    manifest = json.loads((directory / "manifest.json").read_text())
    report = json.loads((directory / "evaluation.json").read_text())
    return {"train_s": round(seconds, 1), "train_rss_mib": rss, "version": directory.name, "train_args": extra,
            "epochs_scale": env.get("KGREC_TRAIN_EPOCHS_SCALE", "1.0"),
            "model_dir_mib": round(sum(p.stat().st_size for p in directory.rglob("*") if p.is_file()) / 2**20, 1),
            "item_model": manifest.get("item_model", "ease"), "runs": manifest.get("runs"),
            "timings_s": report.get("timings_s", {}), "epochs": {
                "lightgcn": manifest["config"]["lightgcn"]["epochs"], "kge": manifest["config"]["kge"]["epochs"]},
            "test_ndcg@10": {k: v["ndcg@10"] for k, v in report.get("models", {}).items()}}


def components(folder: Path, n_users: int, seed: int) -> dict[str, object]:
    """The item-item model alone, straight from the CSV (no Neo4j; what decides whether a size fits): the
    sparse / dense switch as training makes it, fitted over the whole L2 grid, its peak RSS, and one profile
    scored over the catalogue (EASE's part of a request) for random users."""
    import csv

    import numpy as np
    import scipy.sparse as sp

    from kgrec.config import Settings
    from kgrec.ranking.baselines import EASE_GRID
    from kgrec.ranking.sparse_items import SparseEASE, fit_item_model

    with (folder / "interactions.csv").open() as f:
        rows = [(int(r["user"]), int(r["item"])) for r in csv.DictReader(f) if r["event"] not in ("view", "return")]
    users, items = np.unique([u for u, _ in rows], return_inverse=True), np.unique([i for _, i in rows], return_inverse=True)
    x = sp.csr_matrix((np.ones(len(rows), np.float32), (users[1], items[1])), shape=(len(users[0]), len(items[0])))
    x.sum_duplicates()
    x.data[:] = 1
    settings = Settings.from_env()
    start = time.perf_counter()
    model = fit_item_model(x, 300.0, 2, settings)
    one = time.perf_counter() - start
    grid_s = None
    if isinstance(model, SparseEASE):
        start = time.perf_counter()
        SparseEASE.fit_grid(x, EASE_GRID, 2, settings.ease_neighbours)
        grid_s = round(time.perf_counter() - start, 1)
    rng = np.random.default_rng(seed)
    times = []
    for u in rng.choice(x.shape[0], min(n_users, x.shape[0]), replace=False):
        profile = x.indices[x.indptr[u]:x.indptr[u + 1]]
        t = time.perf_counter()
        model.score_items(profile)
        times.append(time.perf_counter() - t)
    ms = np.array(times) * 1000
    return {"components_positives": int(x.nnz), "components_item_model": type(model).__name__,
            "components_fit_s": round(one, 1), "components_grid_fit_s": grid_s,
            "components_b_nnz": int(model.B.nnz) if sp.issparse(model.B) else int(model.B.size),
            "components_score_p50_ms": round(float(np.percentile(ms, 50)), 2),
            "components_score_p99_ms": round(float(np.percentile(ms, 99)), 2),
            "components_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}


def scoring(folder: Path, n_users: int, seed: int) -> dict[str, object]:
    """Where a size's full training does not finish on a shared machine: every blend term's scoring of one
    profile over the whole catalogue (what a recommendation costs before its explanation paths), with the
    real attribute matrix and popularity from the CSV and trained-shape stand-ins for the learned parts
    (random LightGCN and RotatE vectors, a sparse B of k weights per item): the time does not depend on the
    values. p50/p99 over random users' profiles, top 10 picked as the Recommender does."""
    import csv

    import numpy as np
    import scipy.sparse as sp

    from kgrec.config import Settings
    from kgrec.embeddings.kge import LIKES, KGEModel
    from kgrec.embeddings.lightgcn import LightGCNModel
    from kgrec.ranking.hybrid import COMPONENTS, BlendParams, Components, blend
    from kgrec.ranking.kgterm import AttributeModel
    from kgrec.ranking.sparse_items import SparseEASE

    rng = np.random.default_rng(seed)
    with (folder / "items.csv").open() as f:
        items = list(csv.DictReader(f))
    ids = np.array(sorted(int(r["id"]) for r in items))
    keys = {}
    facts = [(int(np.searchsorted(ids, int(r["id"]))), keys.setdefault(f"{c}:{r[c]}", len(keys)))
             for r in items for c in ("brand", "category", "material") if r.get(c)]
    with (folder / "interactions.csv").open() as f:
        rows = [(int(r["user"]), int(np.searchsorted(ids, int(r["item"])))) for r in csv.DictReader(f)]
    users = np.array([u for u, _ in rows])
    x = sp.csr_matrix((np.ones(len(rows), np.float32), (np.unique(users, return_inverse=True)[1],
                                                        [i for _, i in rows])), shape=(len(np.unique(users)), len(ids)))
    n, d, k = len(ids), 64, Settings.from_env().ease_neighbours
    b = sp.csr_matrix((rng.normal(size=n * k).astype(np.float32),
                       (rng.integers(0, n, n * k), np.repeat(np.arange(n), k))), shape=(n, n))
    complex_rows = lambda m: (rng.normal(size=(m, d)) + 1j * rng.normal(size=(m, d))).astype(np.complex64)  # noqa: E731
    comp = Components(
        SparseEASE(np.arange(n), b, n),
        LightGCNModel(rng.normal(size=(n, d)).astype(np.float32), np.zeros((1, d), np.float32)),
        KGEModel("RotatE", complex_rows(n), np.ones(n, bool), complex_rows(len(keys)), np.ones(len(keys), bool),
                 {LIKES: np.exp(1j * rng.uniform(0, 6.28, d)).astype(np.complex64)}),
        AttributeModel.fit(n, len(keys), np.array([i for i, _ in facts]), np.array([a for _, a in facts])),
        np.asarray(x.sum(0)).ravel().astype(np.float32))
    weights = BlendParams().weights
    times = []
    for u in rng.choice(x.shape[0], min(n_users, x.shape[0]), replace=False):
        profile = x.indices[x.indptr[u]:x.indptr[u + 1]]
        w = np.ones(len(profile), np.float32)
        t = time.perf_counter()
        scores = blend(comp.score_one(profile, w, COMPONENTS), weights)
        scores[profile] = -np.inf
        np.argpartition(-scores, 10)[:10]
        times.append(time.perf_counter() - t)
    ms = np.array(times) * 1000
    return {"scoring_p50_ms": round(float(np.percentile(ms, 50)), 1), "scoring_p99_ms": round(float(np.percentile(ms, 99)), 1),
            "scoring_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}


def serve(env: dict[str, str], n_users: int, seed: int) -> dict[str, object]:
    """recommend + explain in this process, as the API's handler runs them, for random users, uncached."""
    import numpy as np

    os.environ.update(env)
    from kgrec.config import Settings
    from kgrec.serve.pipeline import RecommendationService
    from kgrec.graph.connection import Graph

    settings = Settings.from_env(env)
    graph = Graph.connect(settings)
    try:
        svc = RecommendationService(graph, settings)
        model = svc.model()
        users = [int(r["id"]) for r in graph.run_text("MATCH (u:User) RETURN u.id AS id")]
        rng = random.Random(seed)
        picked = rng.sample(users, min(n_users, len(users)))
        svc.recommend(picked[0], k=10)  # first call loads what is lazily loaded
        times = []
        for user in picked:
            t = time.perf_counter()
            svc.recommend(user, k=10)
            times.append(time.perf_counter() - t)
        ms = np.array(times) * 1000
        return {"serve_users": len(picked), "serve_p50_ms": round(float(np.percentile(ms, 50)), 1),
                "serve_p99_ms": round(float(np.percentile(ms, 99)), 1), "serve_mean_ms": round(float(ms.mean()), 1),
                "serve_model_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                "serve_version": getattr(model, "version", None)}
    finally:
        graph.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    ap.add_argument("--stages", nargs="*", default=list(STAGES), choices=STAGES)
    ap.add_argument("--root", type=Path, default=Path("/tmp/kgrec-scale"))
    ap.add_argument("--heap", default="2g", help="KGREC_NEO4J_HEAP of each size's server (default 2g)")
    ap.add_argument("--pagecache", default="1g", help="KGREC_NEO4J_PAGECACHE (default 1g)")
    ap.add_argument("--epochs-scale", type=float, default=None, help="KGREC_TRAIN_EPOCHS_SCALE for the train stage")
    ap.add_argument("--train-args", default="", help="extra `kgrec train` arguments, e.g. --no-refit")
    ap.add_argument("--bulk", action="store_true", help="ingest with `kgrec ingest csv --bulk` (neo4j-admin import)")
    ap.add_argument("--users", type=int, default=300, help="random users served per size (default 300)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--free-ports", action="store_true",
                    help="run each size's server on free loopback ports instead of KGREC_BOLT_PORT / KGREC_HTTP_PORT")
    ap.add_argument("--keep-running", action="store_true", help="leave the last size's Neo4j running")
    args = ap.parse_args()
    for size in args.sizes:
        base = args.root / size
        base.mkdir(parents=True, exist_ok=True)
        result_file = base / "result.json"
        result = json.loads(result_file.read_text()) if result_file.exists() else {"size": size}
        for side in ("components.json", "scoring.json"):
            if (base / side).exists():
                result.update(json.loads((base / side).read_text()))
        env, log = size_env(args.root, size, args), base / "log.txt"
        started = False
        try:
            for stage in STAGES:
                if stage not in args.stages:
                    continue
                print(f"[{time.strftime('%H:%M:%S')}] {size}: {stage} …", file=sys.stderr, flush=True)
                if stage == "generate":
                    result.update(generate(base / "csv", size))
                    continue
                if stage in ("components", "scoring"):
                    measured = (components if stage == "components" else scoring)(base / "csv", args.users, args.seed)
                    side = base / f"{stage}.json"  # a stage run beside others: result.json is theirs
                    side.write_text(json.dumps(measured, indent=2))
                    result.update(measured)
                    continue
                if not started:
                    neo4j("start", env, log)
                    started = True
                if stage == "ingest":
                    result.update(ingest(base / "csv", env, log, args.bulk))
                elif stage == "train":
                    result.update(train(env, log, args.train_args.split()))
                elif stage == "serve":
                    result.update(serve(env, args.users, args.seed))
                result.update(neo4j_heap=args.heap, neo4j_pagecache=args.pagecache)
                _save(result_file, result)
        finally:
            store = base / "home" / "neo4j" / "data"
            if store.exists():
                result["neo4j_store_mib"] = round(sum(p.stat().st_size for p in store.rglob("*") if p.is_file()) / 2**20)
            _save(result_file, result)
            if started and not (args.keep_running and size == args.sizes[-1]):
                neo4j("stop", env, log)
    print(table([json.loads((args.root / s / "result.json").read_text()) for s in args.sizes
                 if (args.root / s / "result.json").exists()]))
    return 0


def _save(path: Path, result: dict[str, object]) -> None:
    """Merge into the file as it is now: another stage of the same size may have written it meanwhile."""
    current = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**current, **{k: v for k, v in result.items() if v is not None}}, indent=2))


def table(results: list[dict[str, object]]) -> str:
    cols = [("size", "size"), ("items", "items"), ("users", "users"), ("interactions", "interactions"),
            ("ingest_s", "ingest s"), ("train_s", "train s"), ("train_rss_mib", "train RSS MiB"),
            ("neo4j_heap", "Neo4j heap"), ("neo4j_store_mib", "store MiB"), ("model_dir_mib", "model MiB"), ("item_model", "item model"),
            ("serve_p50_ms", "p50 ms"), ("serve_p99_ms", "p99 ms"), ("serve_model_rss_mib", "serve RSS MiB")]
    lines = ["| " + " | ".join(h for _, h in cols) + " |", "|" + "---|" * len(cols)]
    for r in results:
        lines.append("| " + " | ".join(str(r.get(k, "")) for k, _ in cols) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
