"""The course's face network: parameters, names, block shapes, the unit-norm output."""

import math

import keras
import numpy as np
import pytest

from yad2k_style.face.model import face_reco_model, faceRecoModel

# The 37 convolutions of the course's network (OpenFace's file names), written out by hand.
CONVS = ["conv1", "conv2", "conv3"]
for block, branches in (("3a", ("3x3", "5x5")), ("3b", ("3x3", "5x5")), ("3c", ("3x3", "5x5")),
                        ("4a", ("3x3", "5x5")), ("4e", ("3x3", "5x5")), ("5a", ("3x3",)), ("5b", ("3x3",))):
    CONVS += [f"inception_{block}_{branch}_conv{i}" for branch in branches for i in (1, 2)]
    if block not in ("3c", "4e"):
        CONVS += [f"inception_{block}_pool_conv", f"inception_{block}_1x1_conv"]
BLOCK_SHAPES = {"inception_3a": (12, 12, 256), "inception_3b": (12, 12, 320), "inception_3c": (6, 6, 640),
                "inception_4a": (6, 6, 640), "inception_4e": (3, 3, 1024), "inception_5a": (3, 3, 736),
                "inception_5b": (3, 3, 736)}


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(3)
    return face_reco_model()


def test_parameter_counts(model):
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    frozen = sum(math.prod(w.shape) for w in model.non_trainable_weights)
    assert (model.count_params(), trainable, frozen) == (3_743_280, 3_733_968, 9_312)
    assert model.output_shape == (None, 128) and model.input_shape == (None, 96, 96, 3)
    assert faceRecoModel is face_reco_model


def test_course_layer_names_and_shapes(model):
    convs = [layer.name for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(CONVS) == 37 and sorted(convs) == sorted(CONVS)
    assert sorted(n.name for n in norms) == sorted(c.replace("conv", "bn") for c in CONVS)
    assert all(layer.use_bias for layer in model.layers if isinstance(layer, keras.layers.Conv2D))
    assert {n.name: n.epsilon for n in norms if n.epsilon != 1e-5} == {"bn1": 1e-3}
    assert {name: model.get_layer(f"{name}_concat").output.shape[1:] for name in BLOCK_SHAPES} == BLOCK_SHAPES
    assert model.get_layer("pool2").output.shape[1:] == (12, 12, 192)
    assert model.get_layer("dense_layer").kernel.shape == (736, 128)


def test_embeddings_have_unit_norm_and_depend_on_the_image(model):
    images = np.random.default_rng(0).uniform(size=(3, 96, 96, 3)).astype(np.float32)
    embeddings = np.asarray(model(images, training=False))
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, rtol=1e-5)
    assert np.linalg.norm(embeddings[0] - embeddings[1]) > 1e-3
