"""The YOLOv2 family's architecture against the course's table and Darknet's published sizes."""

from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from yad2k_style.detection.yolo.model import yolov2_shapes
from yad2k_style.registry import create_model
from yad2k_style.summary import (
    compare_tables,
    model_table,
    parameter_totals,
    read_table,
    reference_table_path,
)
from yad2k_style.yolo import darknet19, yolo_v2, yolov2_tiny, yolov2_tiny_voc

SHARED_TABLE = Path(__file__).parents[2].parent / "shared" / "reference" / "yolov2_608_summary.tsv"


def test_packaged_table_is_the_shared_reference():
    if not SHARED_TABLE.exists():
        pytest.skip("shared/ is not beside this checkout")
    assert reference_table_path().read_bytes() == SHARED_TABLE.read_bytes()


def test_yolov2_608_matches_course_table_row_for_row(yolov2_608):
    reference = read_table(reference_table_path())
    actual = model_table(yolov2_608)
    assert len(reference) == len(actual) == 75
    for want, got in zip(reference, actual, strict=True):
        assert got == want
    assert compare_tables(actual, reference) == []
    assert parameter_totals(yolov2_608) == (50_983_561, 50_962_889, 20_672)


def test_course_table_spot_values():
    rows = {row.name: row for row in read_table(reference_table_path())}
    assert rows["concatenate_1"].inbound == ("space_to_depth_x2", "leaky_re_lu_20")
    assert rows["conv2d_21"].inbound == ("leaky_re_lu_13",)
    assert rows["conv2d_23"].output_shape == "(None, 19, 19, 425)"
    assert rows["conv2d_23"].params == 1024 * 425 + 425


def test_leaky_slope_and_bias_free_convs(yolov2_608):
    leaky = [layer for layer in yolov2_608.layers if isinstance(layer, keras.layers.LeakyReLU)]
    assert len(leaky) == 22
    assert all(layer.negative_slope == pytest.approx(0.1) for layer in leaky)
    convs = [layer for layer in yolov2_608.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [conv.use_bias for conv in convs] == [False] * 22 + [True]
    x = np.array([[-10.0, 5.0]], dtype=np.float32)
    np.testing.assert_allclose(leaky[0](x), [[-1.0, 5.0]])


@pytest.mark.parametrize(
    "build, input_shape, grid, channels, params",
    [
        (lambda: yolo_v2((416, 416, 3)), (416, 416, 3), (13, 13), 425, 50_983_561),
        (lambda: yolo_v2((320, 608, 3)), (320, 608, 3), (10, 19), 425, 50_983_561),
        (lambda: yolo_v2((416, 416, 3), num_classes=20), (416, 416, 3), (13, 13), 125, 50_676_061),
        (lambda: yolov2_tiny(), (416, 416, 3), (13, 13), 425, 11_237_145),
        (lambda: yolov2_tiny_voc(), (416, 416, 3), (13, 13), 125, 15_867_885),
        # 5 conv-bn stages 496 + 4,736 + 18,688 + 74,240 + 295,936, conv 295,424, passthrough 8,320,
        # 3×3×256 on 256 channels 590,848, detector 10,280
        (lambda: yolov2_shapes(), (128, 128, 3), (4, 4), 40, 1_298_968),
    ],
    ids=["416", "320x608", "voc", "tiny-coco", "tiny-voc", "shapes"],
)
def test_variants_shapes_and_params(build, input_shape, grid, channels, params):
    model = build()
    assert model.input_shape == (None, *input_shape)
    assert model.output_shape == (None, *grid, channels)
    assert model.count_params() == params


def test_tiny_last_pool_is_2x2_stride_1():
    model = yolov2_tiny()
    pools = [layer for layer in model.layers if isinstance(layer, keras.layers.MaxPooling2D)]
    assert [p.strides for p in pools] == [(2, 2)] * 5 + [(1, 1)]
    assert pools[-1].output.shape[1:3] == (13, 13)


def test_other_anchor_counts_and_registry():
    model = yolo_v2((416, 416, 3), num_anchors=3, num_classes=2)
    assert model.output_shape == (None, 13, 13, 3 * 7)
    assert create_model("yolov2-voc").output_shape == (None, 13, 13, 125)
    with pytest.raises(ValueError, match="unknown model 'yolov9'; registered models: yolov2, yolov2-voc"):
        create_model("yolov9")


def test_darknet19_classifier():
    model = darknet19()
    assert model.output_shape == (None, 1000)
    assert model.count_params() == 20_856_776
    probabilities = model(np.zeros((1, 224, 224, 3), np.float32))
    np.testing.assert_allclose(np.sum(probabilities), 1.0, rtol=1e-5)


@pytest.mark.parametrize("shape", [(600, 608, 3), (608, 100, 3)])
def test_input_not_multiple_of_32_is_rejected(shape):
    with pytest.raises(ValueError, match="multiples of 32"):
        yolo_v2(shape)


def test_keras_file_reloads_in_safe_mode_bit_identical(yolov2_608, tmp_path):
    path = tmp_path / "yolov2.keras"
    yolov2_608.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    assert [layer.name for layer in reloaded.layers] == [layer.name for layer in yolov2_608.layers]
    x = tf.random.stateless_uniform((1, 608, 608, 3), seed=(1, 2))
    expected = yolov2_608(x, training=False).numpy()
    np.testing.assert_array_equal(reloaded(x, training=False).numpy(), expected)
    assert np.isfinite(expected).all() and expected.std() > 0
