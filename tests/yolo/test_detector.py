"""The Detector: same detections as the course's functions, exact box mapping (plain and letterbox)."""

import keras
import numpy as np
import pytest
from PIL import Image

from yad2k_style.detection.yolo.sources import ModelSource
from yad2k_style.errors import FormatError, YadError
from yad2k_style.images import read_image, resize_image
from yad2k_style.yolo import Detector, yolo_eval, yolo_head


def _images():
    rng = np.random.default_rng(11)
    return [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for h, w in
            [(50, 80), (120, 40), (64, 64)]]


def _course_detections(model, anchors, class_names, image, **eval_options):
    """The course's path: bicubic resize, /255, model, yolo_head, yolo_eval; then clip, (x1, y1, x2, y2)."""
    data = np.asarray(resize_image(image, (64, 64)), np.float32)[None] / 255.0
    outputs = yolo_head(model(data), anchors, len(class_names))
    scores, boxes, classes = yolo_eval(outputs, (image.height, image.width), **eval_options)
    boxes = np.clip(boxes.numpy(), 0, [image.height, image.width] * 2)[:, [1, 0, 3, 2]]
    return boxes, scores.numpy(), classes.numpy()


@pytest.mark.parametrize("per_class", [False, True])
def test_detect_matches_course_functions(tiny_yolo, tiny_anchors, tiny_classes, per_class):
    options = {"max_boxes": 6, "score_threshold": 0.3, "iou_threshold": 0.4}
    detector = Detector(tiny_yolo, tiny_anchors, tiny_classes, per_class_nms=per_class, **options)
    results = detector.detect(_images(), batch_size=2)
    assert len(results) == 3
    for image, result in zip(_images(), results, strict=True):
        boxes, scores, classes = _course_detections(tiny_yolo, tiny_anchors, tiny_classes, image,
                                                    per_class=per_class, **options)
        assert 2 <= len(result.scores) == len(scores) <= 6
        np.testing.assert_allclose(result.scores, scores, rtol=1e-5)
        np.testing.assert_array_equal(result.classes, classes)
        np.testing.assert_allclose(result.boxes, boxes, rtol=1e-4, atol=1e-3)
        assert result.boxes.dtype == np.float32 and result.classes.dtype == np.int32
        assert np.all(result.boxes[:, 2:] <= [image.width, image.height]) and np.all(result.boxes >= 0)


def test_per_class_and_agnostic_differ_on_the_same_model(tiny_yolo, tiny_anchors, tiny_classes):
    counts = [len(Detector(tiny_yolo, tiny_anchors, tiny_classes, per_class_nms=per_class,
                           score_threshold=0.2, max_boxes=20).detect(_images()[:1])[0].scores)
              for per_class in (False, True)]
    assert counts[0] < counts[1]


def _constant_model():
    """64×64 → 2×2×16 constant features: anchor 0 a box of class 0 (score 0.98) centred on each cell,
    sized 0.5×0.5 cells; anchor 1 has confidence ~0."""
    bias = np.array([0, 0, 0, 0, 5, 5, 0, 0] + [0, 0, 0, 0, -10, 0, 0, 0], np.float32)
    inputs = keras.Input((64, 64, 3), name="input_1")
    outputs = keras.layers.Conv2D(16, 32, strides=32, kernel_initializer="zeros", name="constant_head",
                                  bias_initializer=keras.initializers.Constant(bias))(inputs)
    return keras.Model(inputs, outputs, name="constant")


@pytest.mark.parametrize("letterbox, size, expected", [
    (False, (100, 200), [[25, 12.5, 75, 37.5], [125, 12.5, 175, 37.5],
                         [25, 62.5, 75, 87.5], [125, 62.5, 175, 87.5]]),
    # letterboxed into 64×64 at 32×64, 16 rows of grey above: y = (64·y_rel − 16)·100/32, clipped
    (True, (100, 200), [[25, 0, 75, 25], [125, 0, 175, 25], [25, 75, 75, 100], [125, 75, 175, 100]]),
    (True, (200, 100), [[0, 25, 25, 75], [75, 25, 100, 75], [0, 125, 25, 175], [75, 125, 100, 175]]),
])
def test_boxes_map_back_to_original_pixels(letterbox, size, expected):
    detector = Detector(_constant_model(), [[0.5, 0.5], [1, 1]], ["a", "b", "c"], letterbox=letterbox)
    (result,) = detector.detect([Image.new("RGB", size[::-1])])
    score = 1 / (1 + np.exp(-5)) * np.exp(5) / (np.exp(5) + 2)   # sigmoid(5) × softmax([5, 0, 0])[0]
    np.testing.assert_allclose(result.scores, [score] * 4, rtol=1e-6)
    order = np.lexsort((result.boxes[:, 0], result.boxes[:, 1]))
    np.testing.assert_allclose(result.boxes[order], expected, rtol=1e-5, atol=1e-4)


def test_letterbox_padding_is_exactly_half_grey():
    detector = Detector(_constant_model(), [[0.5, 0.5], [1, 1]], ["a", "b", "c"], letterbox=True)
    image = Image.fromarray(np.random.default_rng(2).integers(0, 256, (100, 200, 3), dtype=np.uint8))
    prepared = detector.prepare(image)
    inputs = detector.model_inputs(prepared[None], np.array([[100, 200]], np.int32)).numpy()[0]
    assert np.all(inputs[:16] == 0.5) and np.all(inputs[48:] == 0.5)
    np.testing.assert_array_equal(inputs[16:48], prepared[16:48] / np.float32(255))
    plain = Detector(_constant_model(), [[0.5, 0.5], [1, 1]], ["a", "b", "c"])
    np.testing.assert_array_equal(plain.prepare(image), np.asarray(resize_image(image, (64, 64))))


def test_detect_files_in_order_with_unreadable_file(tmp_path, tiny_yolo, tiny_anchors, tiny_classes):
    images = _images()
    names = ["a.png", "broken.jpg", "b.jpg", "c.png"]
    images[0].save(tmp_path / "a.png")
    (tmp_path / "broken.jpg").write_bytes(b"garbage")
    images[1].save(tmp_path / "b.jpg", quality=95)
    images[2].convert("L").save(tmp_path / "c.png")
    detector = Detector(tiny_yolo, tiny_anchors, tiny_classes, score_threshold=0.3)
    results = list(detector.detect_files([tmp_path / n for n in names], batch_size=3, keep_images=True))
    assert [path for path, _, _ in results] == [str(tmp_path / n) for n in names]
    path, error, image = results[1]
    assert isinstance(error, FormatError) and "broken.jpg: not a readable image" in str(error)
    assert image is None
    good = [result for result in results if result[0] != path]
    readable = [read_image(good_path) for good_path, _, _ in good]
    expected = detector.detect(readable)
    for (_, result, image), want, original in zip(good, expected, readable, strict=True):
        assert image.size == original.size
        assert len(result.scores) > 0
        # other batch sizes (3 here, 8 there): the convolutions' round-off differs at ~1e-6
        np.testing.assert_allclose(result.scores, want.scores, rtol=1e-5)
        np.testing.assert_allclose(result.boxes, want.boxes, rtol=1e-5)


def test_rejects_mismatched_anchors_or_classes(tiny_yolo, tiny_anchors):
    with pytest.raises(YadError, match=r"does not fit 2 anchors × \(5 \+ 80 classes\) = 170 channels"):
        Detector(tiny_yolo, tiny_anchors, [str(i) for i in range(80)])


def test_load_a_keras_file(tiny_yolo_file, tiny_anchors, tiny_classes, tmp_path):
    (tmp_path / "anchors.txt").write_text(", ".join(map(str, tiny_anchors.ravel())))
    (tmp_path / "classes.txt").write_text("\n".join(tiny_classes))
    detector = Detector.load(ModelSource(model=str(tiny_yolo_file), anchors=str(tmp_path / "anchors.txt"),
                                         classes=str(tmp_path / "classes.txt")), score_threshold=0.3)
    assert detector.input_size == (64, 64) and detector.class_names == tiny_classes
    np.testing.assert_array_equal(detector.anchors, tiny_anchors)
    with pytest.raises(FormatError, match=r"tiny\.keras: .*does not fit 5 anchors × \(5 \+ 80 classes\)"):
        Detector.load(ModelSource(model=str(tiny_yolo_file)))   # the packaged COCO classes and course anchors
    with pytest.raises(FormatError, match=r"missing\.keras: file not found"):
        Detector.load(ModelSource(model=str(tmp_path / "missing.keras")))
    (tmp_path / "bad.keras").write_bytes(b"not a zip")
    with pytest.raises(FormatError, match=r"bad\.keras: not a loadable Keras model"):
        Detector.load(ModelSource(model=str(tmp_path / "bad.keras")))


def test_load_by_registered_name():
    detector = Detector.load(ModelSource(model="yolov2-shapes"))
    assert detector.class_names == ["circle", "square", "triangle"] and detector.input_size == (128, 128)
    assert Detector.load().class_names == detector.class_names  # the default: the embedded detector
    with pytest.raises(YadError, match=r"yolov2: its weights are not packaged; they are published at "
                                       r"https://pjreddie.com/media/files/yolov2.weights"):
        Detector.load(ModelSource(model="yolov2"))
