"""Small text assets shipped with yad2k-style (class lists, anchors, cfg files, embedded models).

This folder is installed as the package ``yad2k_style.weights``; use
:func:`yad2k_style.assets.asset_path` to find a file in it.
"""
