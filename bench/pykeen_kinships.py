"""Is our PyKEEN use sound? RotatE on PyKEEN's bundled Kinships data, test Hits@10 beside the
published figure (Ali et al. 2021, "Bringing Light Into the Dark", RotatE on Kinships: 0.987).

    .venv/bin/python bench/pykeen_kinships.py [--epochs 100] [--dim 128]

Kinships ships inside the pykeen package (nothing is downloaded); PYSTOW_HOME points into
KGREC_HOME so PyKEEN writes nothing under ~/.data.
"""
from __future__ import annotations

import argparse
import time

from kgrec.config import Settings
from kgrec.embeddings.kge import use_pystow_home

PUBLISHED_HITS_AT_10 = 0.987  # Ali et al. 2021, RotatE, Kinships, test (filtered, realistic)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.02)
    parser.add_argument("--batch-size", type=int, default=2048)
    parser.add_argument("--seed", type=int, default=None, help="default KGREC_SEED")
    args = parser.parse_args()
    settings = Settings.from_env()
    use_pystow_home(settings.pystow_home)

    import torch
    from pykeen.datasets import Kinships
    from pykeen.pipeline import pipeline

    torch.set_num_threads(settings.train_threads)
    started = time.perf_counter()
    # LCWA (every entity is a candidate tail) with cross-entropy: cheap with 104 entities, and the
    # training assumption the paper's best Kinships runs used
    result = pipeline(
        dataset=Kinships(create_inverse_triples=True),
        model="RotatE", model_kwargs={"embedding_dim": args.dim},
        training_loop="lcwa", loss="crossentropy",
        optimizer="adam", optimizer_kwargs={"lr": args.lr},
        training_kwargs={"num_epochs": args.epochs, "batch_size": args.batch_size, "use_tqdm_batch": False},
        evaluator_kwargs={"filtered": True}, evaluation_kwargs={"batch_size": 1024},
        random_seed=args.seed if args.seed is not None else settings.seed,
        device="cpu",
    )
    seconds = time.perf_counter() - started
    hits = float(result.metric_results.get_metric("both.realistic.hits_at_10"))
    mrr = float(result.metric_results.get_metric("both.realistic.inverse_harmonic_mean_rank"))
    print(f"{'':28s} {'ours':>8s} {'published':>10s} {'ratio':>7s}")
    print(f"{'RotatE Kinships Hits@10':28s} {hits:8.3f} {PUBLISHED_HITS_AT_10:10.3f} {hits / PUBLISHED_HITS_AT_10:7.3f}")
    print(f"{'RotatE Kinships MRR':28s} {mrr:8.3f} {'':>10s}")
    print(f"({args.epochs} epochs, dim {args.dim}, {seconds:.0f} s on {settings.train_threads} thread(s))")


if __name__ == "__main__":
    main()
