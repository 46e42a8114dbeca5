"""The packaged face model (trained on synthetic identities): the one-shot protocol on identities it
never saw, and ``face identify`` with no arguments. No training here."""

import json

import numpy as np
from PIL import Image

from yad2k_style import cli
from yad2k_style.face.samples import HEADING
from yad2k_style.face.synthetic import SAMPLE_IMAGES, SAMPLE_NAMES

RANK1_FLOOR, VERIFICATION_FLOOR = 0.85, 0.90  # issue 13, on this smaller run


def test_one_shot_on_unseen_identities(tmp_path, capsys):
    code = cli.main(["face", "evaluate", "--identities", "50", "--queries", "2",
                     "--plot", str(tmp_path / "roc.png"), "--json", str(tmp_path / "figures.json")])
    assert code == 0
    figures = json.loads((tmp_path / "figures.json").read_text())
    assert figures["model"]["rank1"] >= RANK1_FLOOR and figures["model"]["verification"] >= VERIFICATION_FLOOR
    assert figures["raw pixels"]["rank1"] <= 0.6                  # the task is not trivial
    assert figures["untrained network"]["rank1"] < figures["model"]["rank1"]
    out = capsys.readouterr().out
    assert out.startswith("50 unseen identities, 1 enrolled + 2 query images each")
    with Image.open(tmp_path / "roc.png") as plot:
        assert plot.format == "PNG"


def test_identify_without_arguments(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["face", "identify"]) == 0
    lines = capsys.readouterr().out.splitlines()
    queries = len(SAMPLE_NAMES) * (SAMPLE_IMAGES - 1)
    assert len(lines) == queries + 1 and lines[-1].endswith("queries and matches: face_matches.png")
    assert all(line.startswith(tuple(f"{name}_" for name in SAMPLE_NAMES)) for line in lines[:-1])
    with Image.open(tmp_path / "face_matches.png") as grid:
        assert grid.size == (2 * 96 + 150, HEADING + 96 * queries)  # column headings, a row per query


def test_many_files_are_encoded_by_the_inference_form(tmp_path, monkeypatch):
    """From FAST_FROM files on, encode_files runs the model's inference form: the same embeddings."""
    from yad2k_style.face import embedder as embedder_module
    from yad2k_style.face.synthetic import write_samples

    write_samples(tmp_path)
    paths = sorted(str(p) for p in tmp_path.glob("*.png"))
    embedder = embedder_module.FaceEmbedder.load()
    keras_embeddings = embedder.encode_files(paths, batch_size=4)
    assert embedder._network is None  # fewer than FAST_FROM: the Keras model
    monkeypatch.setattr(embedder_module, "FAST_FROM", len(paths))
    fast = embedder.encode_files(paths, batch_size=4)
    assert embedder._network is not None and fast.shape == (len(paths), 128)
    np.testing.assert_allclose(fast, keras_embeddings, atol=1e-5)
    assert np.abs(fast - keras_embeddings).max() > 0  # really another computation (batch norm folded)
