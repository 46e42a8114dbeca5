"""Segmentation: semantic (:mod:`.semantic`, a U-Net: a class per pixel) and by instance
(:mod:`.mask_rcnn`: Faster R-CNN with a mask per detection); mask files and COCO RLE (:mod:`.masks`),
running them on images (:mod:`.segmenter`) and their evaluation (:mod:`.evaluate`: mIoU, mask AP).

Importing :mod:`.mask_rcnn` registers its Keras layers (and the region detectors'), so its ``.keras``
files load with ``safe_mode=True``.
"""
