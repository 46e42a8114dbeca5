"""The notes' binary-classification alternative: features of a pair, a logistic unit, training."""

import keras
import numpy as np
import pytest

from yad2k_style.face.pairs import EPSILON, pair_classifier


@pytest.mark.parametrize("features", ["abs", "chi2"])
def test_features_and_training(features, tmp_path):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    people = rng.normal(size=(20, 8))
    people /= np.linalg.norm(people, axis=1, keepdims=True)
    first = rng.integers(0, 20, 2000)
    second = np.where(rng.uniform(size=2000) < 0.5, first, rng.integers(0, 20, 2000))
    noisy = lambda index: (people[index] + rng.normal(0, 0.05, (len(index), 8))).astype(np.float32)  # noqa: E731
    x = [noisy(first), noisy(second)]
    y = (first == second).astype(np.float32)
    model = pair_classifier(8, features)
    hidden = keras.Model(model.inputs, model.get_layer(f"{features}_features").output)
    g = [(v + 1) / 2 for v in x]
    want = np.abs(x[0] - x[1]) if features == "abs" else (g[0] - g[1]) ** 2 / (g[0] + g[1] + EPSILON)
    np.testing.assert_allclose(hidden.predict(x, verbose=0), want, rtol=1e-5, atol=1e-7)
    model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=15, batch_size=100, verbose=0)
    assert model.evaluate(x, y, verbose=0)[1] > 0.9
    model.save(tmp_path / "pairs.keras")
    reloaded = keras.saving.load_model(tmp_path / "pairs.keras", safe_mode=True)
    np.testing.assert_array_equal(reloaded.predict(x, verbose=0), model.predict(x, verbose=0))
