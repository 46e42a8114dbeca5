"""Build script: metadata lives in setup.cfg; this maps the top-level ``weights/`` folder into the
package as ``yad2k_style.weights`` so its assets are installed with the code."""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["yad2k_style", "yad2k_style.*"]) + ["yad2k_style.weights"],
    package_dir={"yad2k_style.weights": "weights"},
)
