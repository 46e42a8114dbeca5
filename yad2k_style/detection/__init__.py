"""The other detectors of the notes on the synthetic scenes: SSD and the region-based family (R-CNN,
Fast R-CNN, Faster R-CNN, R-FCN), beside YOLO (:mod:`yad2k_style.yolo`).

Shared pieces: anchor grids (:mod:`.anchors`), matching anchors or proposals to true boxes
(:mod:`.matching`), box deltas (:func:`yad2k_style.boxes.encode_deltas`). Boxes are pixel corners
``(x_min, y_min, x_max, y_max)`` of the network's input throughout.
"""
