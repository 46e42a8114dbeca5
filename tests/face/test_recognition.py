"""``verify`` and ``who_is_it`` with a stub encoder, the face database against brute force, and its
file."""

import numpy as np
import pytest
from PIL import Image

from yad2k_style.errors import FormatError, YadError
from yad2k_style.face.database import FaceDatabase
from yad2k_style.face.recognition import img_to_encoding, verify, who_is_it


class StubEncoder:
    """A "model" whose encoding of an image is its mean colour (3 numbers in [0, 1])."""

    input_shape = (None, 8, 8, 3)

    def predict_on_batch(self, images):
        assert np.asarray(images).shape[1:] == (8, 8, 3)  # the input size comes from input_shape
        return np.asarray(images).mean(axis=(1, 2))


@pytest.fixture
def faces(tmp_path):
    """Plain-colour images: the stub encodes each to its colour / 255."""
    colours = {"alice": (255, 0, 0), "bob": (0, 0, 255), "alice2": (204, 0, 0), "stranger": (0, 255, 0)}
    for name, colour in colours.items():
        Image.new("RGB", (20, 30), colour).save(tmp_path / f"{name}.png")
    database = {"alice": img_to_encoding(tmp_path / "alice.png", StubEncoder()),
                "bob": img_to_encoding(tmp_path / "bob.png", StubEncoder())}
    return tmp_path, database


def test_img_to_encoding_is_rgb_in_zero_one(faces):
    folder, database = faces
    np.testing.assert_allclose(database["alice"], [[1.0, 0.0, 0.0]])
    assert database["alice"].shape == (1, 3)


def test_verify_both_sides_and_at_the_threshold(faces, capsys):
    folder, database = faces
    dist, door_open = verify(folder / "alice2.png", "alice", database, StubEncoder())
    assert dist == pytest.approx(0.2, rel=1e-5) and door_open              # 0.2 < 0.7
    assert capsys.readouterr().out == "It's alice, welcome in!\n"
    dist, door_open = verify(folder / "alice2.png", "bob", database, StubEncoder())
    assert dist == pytest.approx(np.hypot(0.8, 1.0)) and not door_open
    assert capsys.readouterr().out == "It's not bob, please go away\n"
    exact, _ = verify(folder / "alice2.png", "alice", database, StubEncoder())
    assert verify(folder / "alice2.png", "alice", database, StubEncoder(), threshold=exact)[1] is False
    with pytest.raises(YadError, match="'carol' is not in the database"):
        verify(folder / "alice2.png", "carol", database, StubEncoder())


def test_who_is_it_both_sides_and_at_the_threshold(faces, capsys):
    folder, database = faces
    min_dist, identity = who_is_it(folder / "alice2.png", database, StubEncoder())
    assert (identity, min_dist) == ("alice", pytest.approx(0.2, rel=1e-5))
    assert capsys.readouterr().out.startswith("it's alice, the distance is 0.2")
    min_dist, identity = who_is_it(folder / "stranger.png", database, StubEncoder())
    assert min_dist == pytest.approx(np.sqrt(2)) and capsys.readouterr().out == "Not in the database.\n"
    at, _ = who_is_it(folder / "alice2.png", database, StubEncoder())
    capsys.readouterr()
    who_is_it(folder / "alice2.png", database, StubEncoder(), threshold=at)
    assert capsys.readouterr().out.startswith("it's alice")                  # min_dist > threshold only
    who_is_it(folder / "alice2.png", database, StubEncoder(), threshold=at * (1 - 1e-6))
    assert capsys.readouterr().out == "Not in the database.\n"


def test_database_nearest_matches_brute_force():
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(500, 16)).astype(np.float32)
    names = [f"person{i % 120}" for i in range(500)]
    database = FaceDatabase(16, names, embeddings)
    queries = rng.normal(size=(20, 16)).astype(np.float32)
    found, distances = database.nearest(queries)
    for query, name, distance in zip(queries, found, distances, strict=True):
        brute = [np.linalg.norm(query - e) for e in embeddings]
        assert name == names[int(np.argmin(brute))] and distance == pytest.approx(min(brute), rel=1e-4)
    person = [np.linalg.norm(queries[0] - e)
              for e, n in zip(embeddings, names, strict=True) if n == "person7"]
    assert database.distance_to("person7", queries[:1])[0] == pytest.approx(min(person), rel=1e-4)


def test_database_enroll_remove_save_load(tmp_path):
    database = FaceDatabase(4)
    database.enroll("ann", np.eye(4, dtype=np.float32)[:2])
    database.enroll("ben", np.eye(4, dtype=np.float32)[3])
    assert (len(database), database.identities) == (3, ["ann", "ben"])
    database.save(tmp_path / "faces.npz")
    loaded = FaceDatabase.load(tmp_path / "faces.npz", embedding_size=4)
    assert loaded.names.tolist() == ["ann", "ann", "ben"]
    np.testing.assert_array_equal(loaded.embeddings, database.embeddings)
    loaded.remove("ann")
    assert loaded.identities == ["ben"]
    with pytest.raises(YadError, match="'ann' is not in the database"):
        loaded.remove("ann")
    with pytest.raises(YadError, match="embeddings of shape \\(1, 3\\); this database holds 4-dimensional"):
        loaded.enroll("cy", np.zeros(3))


def test_database_file_errors(tmp_path):
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(FormatError, match=r"text\.npz: not a face database"):
        FaceDatabase.load(tmp_path / "text.npz")
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(FormatError, match=r"other\.npz: not a face database"):
        FaceDatabase.load(tmp_path / "other.npz")
    FaceDatabase(4, ["a"], np.ones((1, 4))).save(tmp_path / "small.npz")
    with pytest.raises(FormatError, match="holds 4-dimensional embeddings; the model makes 128-dimensional"):
        FaceDatabase.load(tmp_path / "small.npz", embedding_size=128)
    with pytest.raises(FormatError, match="file not found"):
        FaceDatabase.load(tmp_path / "missing.npz")
