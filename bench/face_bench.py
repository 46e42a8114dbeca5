"""Face recognition: embeddings per second by every path, and a query of a 100,000-face database.

Embeddings: the packaged nn4.small2 (96×96 → 128) on random images at batch 1 and ``--batch``, each
path against the Keras call ``model(x)`` that the course's ``img_to_encoding`` makes: ``tf.function``
of it, ``model.predict``, and the model's inference form (:class:`~yad2k_style.inference.InferenceNetwork`,
what ``FaceEmbedder.encode_files`` runs from ``FAST_FROM`` files on), with each path's error and the
inference form's one-time build. Database: ``FaceDatabase.nearest`` (``|q|² − 2 q·e + |e|²`` as one
matrix-vector product, then the winner's exact distance) against ``np.linalg.norm(embeddings − q)`` over
every row. Medians of ``--runs`` interleaved rounds after a warm-up.

    .venv/bin/python bench/face_bench.py [--runs 7] [--batch 32] [--entries 100000]
"""

import argparse
import time

import numpy as np
import tensorflow as tf
from timing import median_seconds, print_table

from yad2k_style.face.database import FaceDatabase
from yad2k_style.face.embedder import FaceEmbedder
from yad2k_style.inference import InferenceNetwork


def embedding_tables(runs, batch):
    model = FaceEmbedder.load().model
    start = time.perf_counter()
    network = InferenceNetwork(model)
    network(np.zeros((1, *model.input_shape[1:]), np.float32))
    build = time.perf_counter() - start

    @tf.function
    def function(x):
        return model(x, training=False)

    paths = {"inference form": network, "keras model(x)": lambda x: model(x, training=False),
             "tf.function(model)": function, "model.predict": lambda x: model.predict(x, verbose=0)}
    images = np.random.default_rng(0).uniform(size=(batch, *model.input_shape[1:])).astype(np.float32)
    for size in sorted({1, batch}):
        x = images[:size]
        reference = np.asarray(model(x, training=False))
        errors = {path: f"{np.abs(np.asarray(run(x)) - reference).max():.1e}" for path, run in paths.items()}
        seconds = median_seconds([lambda run=run, x=x: np.asarray(run(x)) for run in paths.values()], runs)
        print_table(f"nn4.small2 embeddings, batch {size} (per s: embeddings; error: max |e - model(x)'s|)",
                    dict(zip(paths, seconds, strict=True)), "keras model(x)", items=size,
                    extra={"error": errors})
    print(f"  the inference form's one-time build and first call: {build:.2f} s")


def database_table(entries, runs):
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(entries, 128)).astype(np.float32)
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    database = FaceDatabase(128, [f"person{i // 4}" for i in range(entries)], embeddings)
    query = embeddings[12_345 % entries] + rng.normal(0, 0.01, 128).astype(np.float32)
    names, _ = database.nearest(query)
    assert names[0] == database.names[int(np.argmin(np.linalg.norm(embeddings - query, axis=1)))]
    seconds = median_seconds([lambda: database.nearest(query),
                              lambda: np.argmin(np.linalg.norm(embeddings - query, axis=1))], runs)
    print_table(f"face database of {entries:,} embeddings, one query (per s: queries)",
                dict(zip(["FaceDatabase.nearest", "direct norm of diffs"], seconds, strict=True)),
                "direct norm of diffs", items=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed rounds (default 7; the database: 7x)")
    parser.add_argument("--batch", type=int, default=32, help="the throughput batch (default 32)")
    parser.add_argument("--entries", type=int, default=100_000, help="enrolled embeddings (default 100000)")
    args = parser.parse_args()
    if min(args.runs, args.batch, args.entries) < 1:
        parser.error("--runs, --batch and --entries must be at least 1")
    print(f"medians of {args.runs} interleaved rounds")
    embedding_tables(args.runs, args.batch)
    database_table(args.entries, 7 * args.runs)


if __name__ == "__main__":
    main()
