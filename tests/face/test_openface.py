"""OpenFace CSV weights: a folder written from a seeded model loads into another to identical
embeddings; the exporter round trip is bit-exact; every bad file is named in one error."""

import keras
import numpy as np
import pytest

from yad2k_style import cli
from yad2k_style.artifacts import load_artifact
from yad2k_style.errors import FormatError
from yad2k_style.face.model import face_reco_model
from yad2k_style.face.openface import export_openface_csv, load_openface_csv


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """A seeded model (batch-norm statistics randomised too) and its CSV folder."""
    keras.utils.set_random_seed(11)
    model = face_reco_model()
    rng = np.random.default_rng(11)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, n), rng.normal(0, 0.1, n), rng.normal(0, 0.1, n),
                               rng.uniform(0.5, 2.0, n)])
    folder = tmp_path_factory.mktemp("openface") / "weights"
    export_openface_csv(model, folder)
    return model, folder


def test_folder_loads_into_another_model_to_identical_embeddings(seeded, tmp_path):
    model, folder = seeded
    assert len(list(folder.glob("*.csv"))) == 224
    (folder / "README.txt").write_text("stray files are ignored\n")
    other = load_openface_csv(face_reco_model(), folder)
    images = np.random.default_rng(1).uniform(size=(2, 96, 96, 3)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(other(images)), np.asarray(model(images)))
    export_openface_csv(other, tmp_path / "again")
    for path in folder.glob("*.csv"):
        assert (tmp_path / "again" / path.name).read_bytes() == path.read_bytes()


def test_kernel_order_is_torchs(seeded):
    """``conv2_w.csv`` holds the (out, in, kh, kw) kernel: value [o, i, 0, 0] is Keras' [0, 0, i, o]."""
    model, folder = seeded
    flat = np.array(folder.joinpath("conv2_w.csv").read_text().split(","), np.float32)
    kernel = model.get_layer("conv2").get_weights()[0]                       # (1, 1, 64 in, 64 out)
    assert flat.reshape(64, 64)[5, 7] == kernel[0, 0, 7, 5]
    dense = np.array(folder.joinpath("dense_w.csv").read_text().split(","), np.float32).reshape(128, 736)
    assert dense[3, 100] == model.get_layer("dense_layer").get_weights()[0][100, 3]


def test_every_bad_file_is_named(seeded, tmp_path):
    _, folder = seeded
    broken = tmp_path / "broken"
    broken.mkdir()
    for path in folder.glob("*.csv"):
        (broken / path.name).write_bytes(path.read_bytes())
    (broken / "bn3_v.csv").unlink()
    (broken / "conv2_b.csv").write_text("1,2,3\n")
    (broken / "dense_b.csv").write_text("0.5," * 127 + "oops\n")
    with pytest.raises(FormatError) as caught:
        load_openface_csv(face_reco_model(), broken)
    assert str(caught.value) == (f"{broken}: OpenFace CSV weights: 1 of 224 missing (bn3_v.csv); "
                                 f"1 mis-shaped (conv2_b.csv has 3 values, needs 64); 1 not numbers "
                                 f"(dense_b.csv)")


def test_a_folder_of_something_else_is_summarised_in_one_short_line(tmp_path):
    """The repository's own weights/ folder given by mistake: 224 of 224 missing, three named."""
    (tmp_path / "coco_classes.txt").write_text("person\n")
    with pytest.raises(FormatError) as caught:
        load_openface_csv(face_reco_model(), tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{tmp_path}: OpenFace CSV weights: 224 of 224 missing (conv1_w.csv, ")
    assert message.endswith(", … 221 more)") and len(message) < 200 + len(str(tmp_path))


def test_convert_openface_command(seeded, tmp_path, capsys):
    model, folder = seeded
    out = tmp_path / "facenet"
    assert cli.main(["face", "convert-openface", str(folder), str(out)]) == 0
    assert capsys.readouterr().out.strip() == (f"Wrote {out}: model 'face_reco_model', "
                                               f"{len(model.layers)} layers, 3,743,280 params, output (128,)")
    artifact = load_artifact(out)
    assert artifact.info["task"] == "face-embedding" and artifact.info["threshold"] == 0.7
    assert sum(p.stat().st_size for p in out.iterdir()) < 16 * 2**20
    images = np.random.default_rng(2).uniform(size=(1, 96, 96, 3)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(artifact.model(images)), np.asarray(model(images)))
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli.main(["face", "convert-openface", str(empty), str(tmp_path / "out2")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"yad2k-style: error: {empty}: OpenFace CSV weights: 224 of 224 missing")
    assert not (tmp_path / "out2").exists()
