"""yad2k-style: the convolutional networks of the classic deep-learning course notes in Keras 3.

Domains live in subpackages (``yad2k_style.yolo`` …); see the README's "Layout" section.
"""

__version__ = "0.1.0"
