"""The optimisation loop: costs fall, the image stays in [0, 1], several styles, total variation, VGG
preprocessing, XLA and mixed precision; the colour-preserving transform."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from yad2k_style.style import color
from yad2k_style.style.costs import compute_content_cost, compute_style_cost, total_variation_cost
from yad2k_style.style.features import style_feature_extractor
from yad2k_style.style.transfer import StyleSettings, StyleTransfer, initial_image

SIZE = 48


@pytest.fixture(scope="module")
def extractor():
    keras.utils.set_random_seed(3)
    return style_feature_extractor("vgg16", (SIZE, SIZE, 3))


def images(seed, count):
    """Smooth random images (h, w, 3) in [0, 1]: a few sinusoids per channel."""
    y, x = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    rng = np.random.default_rng(seed)
    return [np.stack([0.5 + 0.5 * np.sin(rng.uniform(2, 20) * x + rng.uniform(2, 20) * y + rng.uniform(0, 6))
                      for _ in range(3)], -1).astype(np.float32) for _ in range(count)]


def test_initial_image_is_the_content_plus_bounded_noise():
    (content,) = images(0, 1)
    start = initial_image(content, 0.25, seed=1)
    assert start.shape == (1, SIZE, SIZE, 3) and start.dtype == np.float32
    assert 0 <= start.min() and start.max() <= 1
    difference = start[0] - content
    assert np.abs(difference).max() <= 0.25 + 1e-6 and np.abs(difference).mean() > 0.05
    np.testing.assert_array_equal(start, initial_image(content, 0.25, seed=1))


def test_twenty_steps_lower_the_cost(extractor):
    content, style = images(1, 2)
    transfer = StyleTransfer(extractor, content, [style], seed=0)
    history = transfer.run(20)
    assert history["total"][-1] < 0.9 * history["total"][0]
    total = history["total"]
    assert all(later < earlier for earlier, later in zip(total, total[1:], strict=False))
    image = transfer.image()
    assert image.shape == (SIZE, SIZE, 3) and image.min() >= 0 and image.max() <= 1
    assert not np.allclose(image, initial_image(content, 0.25, seed=0)[0])


def test_costs_match_the_course_functions(extractor):
    """Two style images weighted 1 : 3 and a total-variation term: J is the sum the docs state."""
    content, style_a, style_b = images(2, 3)
    settings = StyleSettings(alpha=2.0, beta=5.0, total_variation=1e-3)
    transfer = StyleTransfer(extractor, content, [style_a, style_b], style_weights=[1, 3], settings=settings)
    assert transfer.style_weights == [0.25, 0.75]
    generated = tf.constant(images(3, 1)[0][None])
    costs = transfer.costs(generated)
    out_g = extractor(generated)
    J_content = compute_content_cost(extractor(content[None]), out_g)
    J_style = (0.25 * compute_style_cost(extractor(style_a[None]), out_g)
               + 0.75 * compute_style_cost(extractor(style_b[None]), out_g))
    assert costs["content"].numpy() == pytest.approx(J_content.numpy(), rel=1e-5)
    assert costs["style"].numpy() == pytest.approx(J_style.numpy(), rel=1e-5)
    expected = 2 * J_content + 5 * J_style + 1e-3 * total_variation_cost(generated)
    assert costs["total"].numpy() == pytest.approx(expected.numpy(), rel=1e-5)


def test_vgg_preprocessing_feeds_imagenet_inputs(extractor):
    content, style = images(4, 2)
    transfer = StyleTransfer(extractor, content, [style], settings=StyleSettings(vgg_preprocessing=True))
    bgr_centred = content[None, :, :, ::-1] * 255 - np.array([103.939, 116.779, 123.68], np.float32)
    np.testing.assert_allclose(transfer.content_target[-1], extractor(bgr_centred)[-1], rtol=1e-4, atol=1e-4)


def test_xla_step_equals_the_plain_step(extractor):
    content, style = images(5, 2)
    plain = StyleTransfer(extractor, content, [style], seed=0)
    xla = StyleTransfer(extractor, content, [style], seed=0, settings=StyleSettings(jit_compile=True))
    for _ in range(2):
        expected, got = plain.train_step(), xla.train_step()
    assert got["total"].numpy() == pytest.approx(expected["total"].numpy(), rel=1e-3)
    np.testing.assert_allclose(xla.image(), plain.image(), atol=1e-3)


def test_mixed_precision_network_float32_costs():
    keras.utils.set_random_seed(3)
    half = style_feature_extractor("vgg16", (32, 32, 3), dtype_policy="mixed_float16")
    assert keras.config.dtype_policy().name == "float32"  # restored
    assert half.get_layer("block1_conv1").compute_dtype == "float16"
    content, style = (image[:32, :32] for image in images(6, 2))
    transfer = StyleTransfer(half, content, [style], seed=0)
    history = transfer.run(3)
    costs = transfer.train_step()
    assert all(value.dtype == tf.float32 for value in costs.values())
    assert np.isfinite(history["total"]).all() and history["total"][-1] < history["total"][0]
    assert transfer.generated.dtype == tf.float32


def test_yiq_round_trip_and_colour_keeping():
    content, generated, style = (0.2 + 0.6 * image for image in images(7, 3))  # mid-range colours
    np.testing.assert_allclose(color.yiq_to_rgb(color.rgb_to_yiq(content)), content, atol=1e-6)
    np.testing.assert_allclose(color.luminance(content)[..., 0],
                               0.299 * content[..., 0] + 0.587 * content[..., 1] + 0.114 * content[..., 2],
                               atol=1e-6)
    kept = color.with_content_colors(generated, content)
    inside = (kept > 0.01).all(-1) & (kept < 0.99).all(-1)  # where nothing was clipped
    assert inside.mean() > 0.8
    content_iq = color.rgb_to_yiq(content)[inside][:, 1:]
    np.testing.assert_allclose(color.rgb_to_yiq(kept)[inside][:, 1:], content_iq, atol=1e-5)
    np.testing.assert_allclose(color.luminance(kept)[inside], color.luminance(generated)[inside], atol=1e-5)
    matched = color.matched_luminance(style, content)
    assert matched.mean() == pytest.approx(color.luminance(content).mean(), abs=1e-9)
    assert matched.std() == pytest.approx(color.luminance(content).std(), rel=1e-9)
    grey = color.as_grey_rgb(matched)
    assert grey.shape == content.shape and (grey[..., 0] == grey[..., 2]).all()


def test_the_cost_plot_legend_covers_no_curve(monkeypatch, tmp_path):
    """The legend sits below the axes (it once covered the J curve inside them)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from yad2k_style.style import stylize

    saved = []
    monkeypatch.setattr(stylize.plotting, "save_figure", lambda figure, path: saved.append(figure))
    history = {"total": [9.0, 3.0, 1.0], "content": [1.0, 0.5, 0.2], "style": [0.2, 0.06, 0.02]}
    stylize.plot_costs(history, tmp_path / "costs.png", "title")
    renderer = FigureCanvasAgg(saved[0]).get_renderer()
    axes = saved[0].axes[0]
    legend, frame = axes.get_legend().get_window_extent(renderer), axes.get_window_extent(renderer)
    assert legend.y1 < frame.y0 and len(axes.get_legend().get_texts()) == 3
