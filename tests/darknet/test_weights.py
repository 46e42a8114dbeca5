"""The weights reader and writer: both header sizes, Darknet's per-layer layout, specific errors."""

import numpy as np
import pytest

from yad2k_style.darknet import Header, parse_cfg_text, read_weights, write_weights
from yad2k_style.darknet.errors import NotDarknetWeightsError, WeightsCountError, WeightsMismatchError
from yad2k_style.darknet.synthetic import random_convs
from yad2k_style.errors import (
    FormatError,
    YadWarning,
)

SMALL_CFG = """[net]
width=16
height=16
channels=3
[convolutional]
batch_normalize=1
filters=8
size=3
pad=1
activation=leaky
[maxpool]
[convolutional]
filters=4
size=1
activation=linear
"""
SMALL_FLOATS = 8 * (4 + 3 * 9) + 4 * (1 + 8)  # 284


@pytest.fixture
def small(tmp_path):
    """(cfg, weights path, ConvWeights written) for a 2-conv network, version 0.2 header."""
    cfg = parse_cfg_text(SMALL_CFG, "small.cfg")
    convs = random_convs(cfg, seed=3)
    path = tmp_path / "small.weights"
    write_weights(path, Header(0, 2, 0, 7), convs)
    return cfg, path, convs


@pytest.mark.parametrize("header, size", [(Header(0, 1, 0, 2**31 - 1), 16), (Header(0, 2, 0, 2**40), 20),
                                          (Header(1, 0, 0, 5), 20), (Header(0, 2, 5, 0), 20)])
def test_header_sizes_and_layout(small, tmp_path, header, size):
    cfg, _, convs = small
    path = tmp_path / "h.weights"
    write_weights(path, header, convs)
    raw = path.read_bytes()
    assert header.size == size and len(raw) == size + 4 * SMALL_FLOATS
    assert np.frombuffer(raw[:12], "<i4").tolist() == [header.major, header.minor, header.revision]
    first = np.frombuffer(raw[size:], "<f4")
    np.testing.assert_array_equal(first[:8], convs[0].biases)
    np.testing.assert_array_equal(first[8:16], convs[0].scales)
    np.testing.assert_array_equal(first[32:32 + 216], convs[0].kernel.ravel())
    weights = read_weights(path, cfg)
    assert weights.header == header
    assert weights.floats_read == weights.floats_in_file == SMALL_FLOATS
    for got, want in zip(weights.convs, convs, strict=True):
        for a, b in zip(got.arrays(), want.arrays(), strict=True):
            np.testing.assert_array_equal(a, b)
    assert weights.convs[0].kernel.shape == (8, 3, 3, 3) and weights.convs[1].scales is None


def test_truncated(small):
    cfg, path, _ = small
    path.write_bytes(path.read_bytes()[:-4 * 10 - 2])
    with pytest.raises(WeightsCountError) as caught:
        read_weights(path, cfg)
    assert str(caught.value) == (
        f"{path}: truncated: small.cfg needs 284 floats, the file has 273; they run out in layer 2 "
        f"([convolutional] at small.cfg:12), which needs 36 floats from float 248")


def test_extra_floats_error_or_warning(small):
    cfg, path, _ = small
    path.write_bytes(path.read_bytes() + b"\0" * 14)
    with pytest.raises(WeightsCountError, match="3 floats and 2 bytes left over after the 284 that small.cfg "
                                                r"needs \(is this the cfg .*\); --allow-extra accepts them"):
        read_weights(path, cfg)
    with pytest.warns(YadWarning, match="ignoring 3 floats and 2 bytes left over"):
        weights = read_weights(path, cfg, allow_extra=True)
    assert (weights.floats_read, weights.floats_in_file) == (284, 287)


def test_floats_of_another_cfg_are_a_mismatch(small):
    _, path, _ = small
    other = parse_cfg_text(SMALL_CFG.replace("filters=8", "filters=6"), "other.cfg")
    with pytest.raises(WeightsCountError, match="70 floats left over after the 214 that other.cfg needs"):
        read_weights(path, other)  # the size is checked first, before any float is read
    with pytest.warns(YadWarning), pytest.raises(WeightsMismatchError, match=r"the floats do not fit the "
                                                  r"cfg: layer 0 \(\[convolutional\] at other.cfg:5\) reads "
                                                  r"negative or non-finite"):
        read_weights(path, other, allow_extra=True)


@pytest.mark.parametrize("content, problem", [
    (b"\0" * 10, "not a Darknet weights file: 10 bytes, shorter than the 16-byte header"),
    (np.array([0, 2, 0, 1], "<i4").tobytes(),
     "not a Darknet weights file: 16 bytes, shorter than the 20-byte header of version 0.2"),
    (b"\x89HDF\r\n\x1a\n" + b"\0" * 100,
     "not a Darknet weights file: header version 1178880137.169478669.0 "
     "(Darknet's major, minor and revision are small non-negative numbers)"),
])
def test_not_darknet_header(tmp_path, content, problem):
    path = tmp_path / "x.weights"
    path.write_bytes(content)
    with pytest.raises(NotDarknetWeightsError) as caught:
        read_weights(path, parse_cfg_text(SMALL_CFG, "small.cfg"))
    assert str(caught.value) == f"{path}: {problem}"


def test_missing_file(tmp_path):
    with pytest.raises(FormatError, match=r"nothing.weights: file not found"):
        read_weights(tmp_path / "nothing.weights", parse_cfg_text(SMALL_CFG, "small.cfg"))
