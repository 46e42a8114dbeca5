"""Darknet test files: the packaged cfgs at a reduced input size, with seeded random weights."""

import re

import pytest

from yad2k_style.assets import asset_path
from yad2k_style.darknet import Header, parse_cfg, write_weights
from yad2k_style.darknet.synthetic import random_convs


def write_cfg(directory, name, size=None, text=None):
    """Copy packaged ``weights/{name}.cfg`` (or ``text``) into ``directory``, with ``size``×``size``
    input when given; returns the path."""
    text = asset_path(f"{name}.cfg").read_text() if text is None else text
    if size is not None:
        text = re.sub(r"^(width|height)=\d+$", rf"\g<1>={size}", text, flags=re.MULTILINE)
    path = directory / f"{name}.cfg"
    path.write_text(text)
    return path


@pytest.fixture
def cfg_file(tmp_path):
    """Factory ``(name, size=None, text=None)`` → path of a packaged cfg (or ``text``) in ``tmp_path``."""
    return lambda name, size=None, text=None: write_cfg(tmp_path, name, size, text)


@pytest.fixture
def darknet_files(tmp_path):
    """Factory ``(name, size=None, header=Header(), seed=0)`` → ``(cfg path, weights path)`` for a
    packaged cfg with seeded random weights, in a fresh subdirectory of ``tmp_path``."""

    def make(name, size=None, header=None, seed=0):
        header = header or Header()
        directory = tmp_path / f"{name}-{size}-{header.size}-{seed}"
        directory.mkdir()
        cfg_path = write_cfg(directory, name, size)
        weights_path = directory / f"{name}.weights"
        write_weights(weights_path, header, random_convs(parse_cfg(cfg_path), seed))
        return cfg_path, weights_path

    return make
