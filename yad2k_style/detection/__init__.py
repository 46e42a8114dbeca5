"""Object detection: what every detector shares, and one module or package per family.

Shared: the synthetic scenes (:mod:`.synthetic`), labelled datasets (:mod:`.labels`), COCO evaluation
(:mod:`.evaluate`), the detector interface and its results (:mod:`.detector`, :mod:`.results`), batched
non-max suppression (:mod:`.nms`), anchor grids (:mod:`.anchors`), matching anchors or proposals to
true boxes (:mod:`.matching`), RoI pooling (:mod:`.roi_pooling`, :mod:`.region_layers`), the small
body the scene detectors share (:mod:`.backbone`) and their training loop (:mod:`.train`).

Families: YOLO (:mod:`.yolo`; the course's API is also :mod:`yad2k_style.yolo`), SSD (:mod:`.ssd`),
R-CNN (:mod:`.rcnn`, with :mod:`.selective_search`), Fast R-CNN (:mod:`.fast_rcnn`), Faster R-CNN
(:mod:`.faster_rcnn`) and R-FCN (:mod:`.rfcn`). Mask R-CNN is in :mod:`yad2k_style.segmentation`.

Boxes are pixel corners ``(x_min, y_min, x_max, y_max)`` unless a module says otherwise. Importing this
package imports no TensorFlow (the command line reads :mod:`.synthetic`'s seeds for its ``--help``).
Importing :mod:`.region_layers` (any region detector imports it) registers their Keras layers, so
their ``.keras`` files load with ``safe_mode=True``.
"""
