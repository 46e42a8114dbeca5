"""yad2k-style: the convolutional networks of the classic deep-learning course notes in Keras 3.

Domains live in subpackages (``yad2k_style.detection``, ``yad2k_style.face`` …); the course's YOLO names are
also ``yad2k_style.yolo``. The README's "Layout" section maps them.
"""

__version__ = "0.1.0"
