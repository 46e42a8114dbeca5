"""Lambda functions against NumPy references (the reorg one ported from Darknet's C loop)."""

import numpy as np
import pytest
import tensorflow as tf

from yad2k_style.layers import darknet_reorg, pad_for_max_pool, space_to_depth, space_to_depth_x2


def numpy_space_to_depth(x, block):
    b, h, w, c = x.shape
    y = x.reshape(b, h // block, block, w // block, block, c)
    return y.transpose(0, 1, 3, 2, 4, 5).reshape(b, h // block, w // block, block * block * c)


def darknet_reorg_reference(x_nhwc, stride):
    """pjreddie's ``reorg_cpu(..., forward=0, ...)`` on the (C, H, W) buffer, index for index."""
    batch, h, w, c = x_nhwc.shape
    x = x_nhwc.transpose(0, 3, 1, 2).ravel()
    out = np.empty_like(x)
    out_c = c // (stride * stride)
    for b in range(batch):
        for k in range(c):
            for j in range(h):
                for i in range(w):
                    in_index = i + w * (j + h * (k + c * b))
                    c2, offset = k % out_c, k // out_c
                    w2, h2 = i * stride + offset % stride, j * stride + offset // stride
                    out_index = w2 + w * stride * (h2 + h * stride * (c2 + out_c * b))
                    out[in_index] = x[out_index]
    chw = out.reshape(batch, c * stride * stride, h // stride, w // stride)
    return chw.transpose(0, 2, 3, 1)


def test_space_to_depth_x2_equals_tf_space_to_depth():
    x = tf.random.stateless_normal((2, 38, 38, 64), seed=(3, 4))
    got = space_to_depth_x2(x).numpy()
    np.testing.assert_array_equal(got, tf.nn.space_to_depth(x, 2).numpy())
    np.testing.assert_array_equal(got, numpy_space_to_depth(x.numpy(), 2))
    assert got.shape == (2, 19, 19, 256)


def test_space_to_depth_any_block():
    x = np.random.default_rng(0).normal(size=(1, 6, 9, 2)).astype(np.float32)
    np.testing.assert_array_equal(space_to_depth(x, 3).numpy(), numpy_space_to_depth(x, 3))


@pytest.mark.parametrize("shape", [(2, 4, 4, 8), (1, 6, 10, 12)])
def test_darknet_reorg_matches_darknet_loop(shape):
    x = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    got = darknet_reorg(tf.constant(x), stride=2).numpy()
    np.testing.assert_array_equal(got, darknet_reorg_reference(x, 2))
    assert not np.array_equal(got, numpy_space_to_depth(x, 2))


def test_pad_for_max_pool_pads_with_minus_infinity():
    x = np.ones((1, 2, 2, 1), np.float32)
    padded = pad_for_max_pool(x, (0, 1, 1, 0)).numpy()[0, :, :, 0]
    assert padded.shape == (3, 3)
    assert np.isneginf(padded[2]).all() and np.isneginf(padded[:, 0]).all()
    assert (padded[:2, 1:] == 1).all()
