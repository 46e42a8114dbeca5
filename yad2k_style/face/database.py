"""A database of precomputed face embeddings: enroll, remove, nearest identity, save and load.

Each row is one enrolled image: a name and its embedding (unit L2 norm). A person may have several
rows; their distance to a query is the smallest over their rows. Distances are **plain** L2 norms
``||f(x) − f(y)||`` (not squared), as the course's ``verify`` and ``who_is_it`` compare them.
The file is NumPy's ``.npz`` (no pickle: names are stored as a Unicode array), written atomically.
"""

import zipfile

import numpy as np

from yad2k_style.errors import FormatError, YadError
from yad2k_style.files import atomic_write

FORMAT = "yad2k-style face database 1"


class FaceDatabase:
    """``names`` (N,) and ``embeddings`` (N, D) float32, one row per enrolled image."""

    def __init__(self, embedding_size, names=(), embeddings=None):
        self.embedding_size = int(embedding_size)
        self.names = np.asarray(list(names), dtype=str)
        self.embeddings = (np.zeros((0, self.embedding_size), np.float32) if embeddings is None
                           else np.asarray(embeddings, np.float32).reshape(-1, self.embedding_size))
        self._norms = np.sum(np.square(self.embeddings, dtype=np.float64), axis=1)

    def __len__(self):
        return len(self.names)

    def __contains__(self, name):
        return bool(np.any(self.names == name))

    @property
    def identities(self):
        """The enrolled names, each once, sorted."""
        return sorted(set(self.names.tolist()))

    def enroll(self, name, embeddings):
        """Add one row per embedding (D,) or (K, D) for ``name``."""
        embeddings = self._checked(embeddings)
        self.names = np.concatenate([self.names, np.array([name] * len(embeddings), dtype=str)])
        self.embeddings = np.concatenate([self.embeddings, embeddings])
        self._norms = np.sum(np.square(self.embeddings, dtype=np.float64), axis=1)

    def remove(self, name):
        """Remove every row of ``name``; a :class:`YadError` if there is none."""
        keep = self.names != name
        if keep.all():
            raise YadError(f"{name!r} is not in the database")
        self.names, self.embeddings, self._norms = self.names[keep], self.embeddings[keep], self._norms[keep]

    def _checked(self, embeddings):
        embeddings = np.asarray(embeddings, np.float32)
        embeddings = embeddings.reshape(1, -1) if embeddings.ndim == 1 else embeddings
        if embeddings.ndim != 2 or embeddings.shape[1] != self.embedding_size:
            raise YadError(f"embeddings of shape {embeddings.shape}; this database holds "
                           f"{self.embedding_size}-dimensional ones")
        return embeddings

    def distances(self, queries):
        """Plain L2 distances (Q, N) from queries (Q, D) (or one (D,)) to every row, vectorised as
        ``|q|² − 2 q·e + |e|²`` (float64: about 1e-8 from the direct difference's norm)."""
        queries = self._checked(queries).astype(np.float64)
        query_norms = np.sum(np.square(queries), axis=1)[:, None]
        squared = query_norms - 2.0 * queries @ self.embeddings.T.astype(np.float64) + self._norms
        return np.sqrt(np.maximum(squared, 0.0))

    def distance_to(self, name, queries):
        """(Q,) smallest plain distance ``||q − e||`` from each query to ``name``'s rows (computed
        directly); :class:`YadError` if ``name`` is not enrolled."""
        rows = self.names == name
        if not rows.any():
            raise YadError(f"{name!r} is not in the database")
        queries = self._checked(queries)
        return np.linalg.norm(queries[:, None, :] - self.embeddings[rows][None], axis=-1).min(axis=1)

    def nearest(self, queries):
        """``(names (Q,), distances (Q,))`` of the nearest row to each query: found with one float32
        matrix product (rows closer than about 1e-6 to each other may swap), its distance then
        computed directly as ``||q − e||``."""
        if not len(self):
            raise YadError("the database is empty: enroll someone first")
        queries = self._checked(queries)
        # |q|² is the same for every row: the nearest row minimises |e|² − 2 q·e (float32 products)
        scores = self._norms.astype(np.float32) - 2.0 * (queries @ self.embeddings.T)
        best = np.argmin(scores, axis=1)
        return self.names[best], np.linalg.norm(queries - self.embeddings[best], axis=1)

    def save(self, path):
        """Write the database to ``path`` atomically (``.npz``, no pickle)."""
        with atomic_write(path) as file:
            np.savez(file, format=np.array(FORMAT), names=self.names.astype(str), embeddings=self.embeddings)

    @classmethod
    def load(cls, path, embedding_size=None):
        """A database written by :meth:`save`; :class:`FormatError` naming the file when it is not one,
        or when its embeddings are not ``embedding_size``-dimensional."""
        try:
            with np.load(path, allow_pickle=False) as data:
                if str(data["format"]) != FORMAT:
                    raise FormatError(path, f"not a {FORMAT!r} file")
                names, embeddings = data["names"], data["embeddings"]
        except FileNotFoundError:
            raise FormatError(path, "file not found") from None
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            if isinstance(exc, FormatError):
                raise
            raise FormatError(path, "not a face database (written by `yad2k-style face enroll`)") from None
        if (names.ndim != 1 or names.dtype.kind != "U" or embeddings.ndim != 2 or embeddings.shape[1] < 1
                or embeddings.dtype.kind != "f" or len(names) != len(embeddings)):
            raise FormatError(path, "not a face database: its names and embeddings are not a list of names "
                                    "and one embedding vector each")
        if not np.isfinite(embeddings).all():
            raise FormatError(path, "not a face database: an embedding holds a value that is not a number")
        if embedding_size is not None and embeddings.shape[1] != embedding_size:
            raise FormatError(path, f"holds {embeddings.shape[1]}-dimensional embeddings; the model makes "
                                    f"{embedding_size}-dimensional ones")
        return cls(embeddings.shape[1], names, embeddings)
