"""The other detectors of the notes on the synthetic scenes: SSD and the region-based family (R-CNN,
Fast R-CNN, Faster R-CNN, R-FCN), beside YOLO (:mod:`yad2k_style.yolo`); and segmentation, semantic
(:mod:`.semantic`, a U-Net) and by instance (:mod:`.mask_rcnn`).

Shared pieces: anchor grids (:mod:`.anchors`), matching anchors or proposals to true boxes
(:mod:`.matching`), box deltas (:func:`yad2k_style.boxes.encode_deltas`). Boxes are pixel corners
``(x_min, y_min, x_max, y_max)`` of the network's input throughout.

Importing this package registers the detectors' own Keras layers, so their ``.keras`` files load
with ``safe_mode=True``.
"""

from yad2k_style.detection import mask_rcnn, region_layers  # noqa: F401  (registers their layers)
