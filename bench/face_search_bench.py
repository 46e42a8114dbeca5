"""Nearest-identity search in a face database of 100,000 enrolled embeddings (128-d).

Prints the median time of one query (``FaceDatabase.nearest``: ``|q|² − 2 q·e + |e|²`` as one
matrix-vector product, then the winner's exact distance) beside a peer in the same process: the
direct ``np.linalg.norm(embeddings − q, axis=1)`` over every row.

    .venv/bin/python bench/face_search_bench.py [--entries 100000] [--runs 50]
"""

import argparse

import numpy as np
from timing import median_seconds

from yad2k_style.face.database import FaceDatabase


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000, help="enrolled embeddings (default 100000)")
    parser.add_argument("--runs", type=int, default=50, help="timed queries (default 50)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(args.entries, 128)).astype(np.float32)
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    database = FaceDatabase(128, [f"person{i // 4}" for i in range(args.entries)], embeddings)
    query = embeddings[12_345 % args.entries] + rng.normal(0, 0.01, 128).astype(np.float32)
    names, _ = database.nearest(query)
    assert names[0] == database.names[int(np.argmin(np.linalg.norm(embeddings - query, axis=1)))]
    def direct_search():
        return np.argmin(np.linalg.norm(embeddings - query, axis=1))

    search, direct = median_seconds([lambda: database.nearest(query), direct_search], args.runs)
    print(f"{args.entries:,} entries, one query, median of {args.runs} runs:")
    print(f"FaceDatabase.nearest   {search * 1e3:7.2f} ms")
    print(f"direct norm of diffs   {direct * 1e3:7.2f} ms")
    print(f"ratio nearest / direct {search / direct:.2f}×")


if __name__ == "__main__":
    main()
