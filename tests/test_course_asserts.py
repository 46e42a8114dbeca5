"""The course assignments' own asserts, as the course writes them, against the package's functions.

Each block below is the assignment's test cell with its calls and assert lines unchanged, but for two
spellings that TensorFlow 2.16+ no longer offers: Keras 3 has no ``tf.keras.backend.random_normal``,
so the triplet loss's random inputs come from ``tf.random.normal`` (same seeds, same values: the
course's 527.2598), and ``tf.python`` is not an attribute of ``tf`` any more, so ``EagerTensor`` is
imported from ``tensorflow.python.framework.ops``, as the style-transfer assignment imports it."""

import numpy as np
import tensorflow as tf
from PIL import Image
from tensorflow.python.framework.ops import EagerTensor

from yad2k_style.face.losses import triplet_loss
from yad2k_style.face.recognition import img_to_encoding, verify, who_is_it
from yad2k_style.style.costs import total_cost


def test_triplet_loss_as_the_course_tests_it(capsys):
    # BEGIN UNIT TEST
    tf.random.set_seed(1)
    y_true = (None, None, None)  # It is not used
    y_pred = (tf.random.normal([3, 128], mean=6, stddev=0.1, seed=1),
              tf.random.normal([3, 128], mean=1, stddev=1, seed=1),
              tf.random.normal([3, 128], mean=3, stddev=4, seed=1))
    loss = triplet_loss(y_true, y_pred)

    assert type(loss) == EagerTensor, "Use tensorflow functions"  # noqa: E721
    print("loss = " + str(loss))

    y_pred_perfect = ([1., 1.], [1., 1.], [1., 1.,])
    loss = triplet_loss(y_true, y_pred_perfect, 5)
    assert loss == 5, "Wrong value. Did you add the alpha to basic_loss?"
    y_pred_perfect = ([1., 1.], [1., 1.], [0., 0.,])
    loss = triplet_loss(y_true, y_pred_perfect, 3)
    assert loss == 1., "Wrong value. Check that pos_dist = 0 and neg_dist = 2 in this example"
    y_pred_perfect = ([1., 1.], [0., 0.], [1., 1.,])
    loss = triplet_loss(y_true, y_pred_perfect, 0)
    assert loss == 2., "Wrong value. Check that pos_dist = 2 and neg_dist = 0 in this example"
    y_pred_perfect = ([0., 0.], [0., 0.], [0., 0.,])
    loss = triplet_loss(y_true, y_pred_perfect, -2)
    assert loss == 0, "Wrong value. Are you taking the maximum between basic_loss and 0?"
    y_pred_perfect = ([[1., 0.], [1., 0.]], [[1., 0.], [1., 0.]], [[0., 1.], [0., 1.]])
    loss = triplet_loss(y_true, y_pred_perfect, 3)
    assert loss == 2., "Wrong value. Are you applying tf.reduce_sum to get the loss?"
    y_pred_perfect = ([[1., 1.], [2., 0.]], [[0., 3.], [1., 1.]], [[1., 0.], [0., 1.,]])
    loss = triplet_loss(y_true, y_pred_perfect, 1)
    if (loss == 4.):
        raise Exception('Perhaps you are not using axis=-1 in reduce_sum?')
    assert loss == 5, "Wrong value. Check your implementation"
    # END UNIT TEST
    assert capsys.readouterr().out == "loss = tf.Tensor(527.2598, shape=(), dtype=float32)\n"


def test_total_cost_as_the_course_tests_it(capsys):
    J_content = 0.2
    J_style = 0.8
    J = total_cost(J_content, J_style)

    assert type(J) == EagerTensor, "Do not remove the @tf.function() modifier from the function"  # noqa: E721
    assert J == 34, "Wrong value. Try inverting the order of alpha and beta in the J calculation"
    assert np.isclose(total_cost(0.3, 0.5, alpha=10, beta=20), 13), "Wrong value. Use the alpha and beta parameters"  # noqa: E501

    np.random.seed(1)
    print("J = " + str(total_cost(np.random.uniform(0, 1), np.random.uniform(0, 1))))
    assert capsys.readouterr().out == "J = tf.Tensor(32.9832, shape=(), dtype=float32)\n"


class PredictOnly:
    """An object with ``predict_on_batch`` and nothing else, as the course's code allows: the
    encoding of a batch (1, 96, 96, 3) is its three channel means, the grey level, then zeros, L2-normed."""

    def __init__(self):
        self.shapes = []

    def predict_on_batch(self, x_train):
        self.shapes.append(x_train.shape)
        means = x_train.mean(axis=(1, 2))
        grey = means.mean(axis=1, keepdims=True)
        encoding = np.concatenate([means, grey, np.zeros((len(x_train), 124))], axis=1)
        return encoding / np.linalg.norm(encoding, axis=1, keepdims=True)


def test_img_to_encoding_verify_and_who_is_it_with_any_predict_on_batch(tmp_path, capsys):
    colours = {"red": (200, 30, 30), "green": (30, 200, 30), "blue": (30, 30, 200)}
    for name, colour in colours.items():
        Image.new("RGB", (120, 150), colour).save(tmp_path / f"{name}.png")
    FRmodel = PredictOnly()  # noqa: N806  (the course's name)
    database = {}
    for name in colours:
        database[name] = img_to_encoding(str(tmp_path / f"{name}.png"), FRmodel)
    assert FRmodel.shapes == [(1, 96, 96, 3)] * 3  # the course's 96×96, as the model has no input_shape
    red = np.array([200, 30, 30, np.mean([200, 30, 30])]) / 255.0
    np.testing.assert_allclose(database["red"][0, :4], red / np.linalg.norm(red), rtol=1e-3)
    assert database["red"].shape == (1, 128) and database["red"].dtype == np.float32

    dist, door_open = verify(str(tmp_path / "green.png"), "green", database, FRmodel)
    assert dist < 1e-6 and door_open
    min_dist, identity = who_is_it(str(tmp_path / "blue.png"), database, FRmodel)
    assert identity == "blue" and min_dist < 1e-6
    assert capsys.readouterr().out.splitlines()[0] == "It's green, welcome in!"
