"""NumPy ports of Darknet's C forward passes (pjreddie/darknet, master), an independent test reference.

Conventions: one batch item at a time, in Darknet's memory layout. A feature map is a float32 array
shaped ``(C, H, W)``; ``x.ravel()`` is exactly Darknet's flat order (``w + W*(h + H*c)``). Flat vectors
are 1-D. Weights are given in the order a ``.weights`` file stores them. Integer divisions follow C
(truncation toward zero); float arithmetic is float32 where the C code uses ``float`` and float64 where
it calls the double ``exp``/``pow``/``sqrt`` before storing into a ``float``.

Ported from ``src/activations.{h,c}``, ``im2col.c``, ``convolutional_layer.c``, ``batchnorm_layer.c``,
``connected_layer.c``, ``local_layer.c``, ``shortcut_layer.c``, ``blas.c``, ``blas_kernels.cu``,
``upsample_layer.c``, ``maxpool_layer.c``, ``avgpool_layer.c``, ``crop_layer.c``, ``reorg_layer.c``,
``softmax_layer.c``, ``tree.c``, ``region_layer.c``, ``detection_layer.c``, ``yolo_layer.c`` and
``box.c``. Where C reads memory it never wrote (see ``forward_convolutional`` with ``size == 1`` and
``forward_local``), the port reads zeros and says so.
"""

import re
import warnings
from dataclasses import dataclass, field

import numpy as np

F32 = np.float32
FLT_MAX = float(np.finfo(np.float32).max)

CPU_BATCHNORM_EPSILON = 1e-6
"""What ``normalize_cpu`` adds to ``sqrt(rolling_variance)`` (the standard deviation, not the variance)
at test time: ``(x - mean) / (sqrt(var) + .000001f)``. The GPU ``normalize_kernel`` does the same."""


def _cdiv(a, b):
    """C integer division of ints (truncation toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _f32(x):
    return np.asarray(x, dtype=np.float32)


# ----------------------------------------------------------------------------------------------------
# activations.h / activations.c
# ----------------------------------------------------------------------------------------------------

def _stair(x):
    n = np.floor(x)
    even = np.fmod(n, 2) == 0
    return np.where(even, np.floor(x / F32(2)), (x - n) + np.floor(x / F32(2)))


def _hardtan(x):
    return np.where(x < -1, F32(-1), np.where(x > 1, F32(1), x))


def _plse(x):
    return np.where(x < -4, F32(0.01) * (x + F32(4)),
                    np.where(x > 4, F32(0.01) * (x - F32(4)) + F32(1), F32(0.125) * x + F32(0.5)))


def _lhtan(x):
    return np.where(x < 0, F32(0.001) * x, np.where(x > 1, F32(0.001) * (x - F32(1)) + F32(1), x))


def _elu(x):
    # written as C writes it: a bool times exp(x) - 1, so exp overflow (x > ~88.7) gives 0 * inf = NaN
    return (x >= 0).astype(F32) * x + (x < 0).astype(F32) * (np.exp(x) - F32(1))


def _selu(x):
    a = F32(1.0507)
    return (x >= 0).astype(F32) * a * x + (x < 0).astype(F32) * a * F32(1.6732) * (np.exp(x) - F32(1))


def _tanh(x):
    # Darknet's (expf(2x) - 1) / (expf(2x) + 1): inf / inf = NaN once expf(2x) overflows (x > ~44.4)
    e = np.exp(F32(2) * x)
    return (e - F32(1)) / (e + F32(1))


_ACTIVATIONS = {
    "logistic": lambda x: F32(1) / (F32(1) + np.exp(-x)),
    "loggy": lambda x: F32(2) / (F32(1) + np.exp(-x)) - F32(1),
    "relu": lambda x: x * (x > 0).astype(F32),
    "elu": _elu,
    "selu": _selu,
    "relie": lambda x: np.where(x > 0, x, F32(0.01) * x),
    "plse": _plse,
    "hardtan": _hardtan,
    "lhtan": _lhtan,
    "linear": lambda x: x,
    "ramp": lambda x: x * (x > 0).astype(F32) + F32(0.1) * x,
    "leaky": lambda x: np.where(x > 0, x, F32(0.1) * x),
    "tanh": _tanh,
    "stair": _stair,
}


def activate(x, name):
    """``activate_array`` with ``get_activation(name)``: elementwise, float32 in and out, any shape.

    Formulas as activations.h writes them (float constants, ``expf``), overflow included: ``tanh`` is
    NaN above ~44.4 and ``elu``/``selu`` are NaN above ~88.7, as in Darknet. An unknown name falls back
    to ``relu`` with a warning, as ``get_activation`` does.
    """
    x = np.array(x, dtype=np.float32, copy=True)
    fn = _ACTIVATIONS.get(name)
    if fn is None:
        warnings.warn(f"Darknet has no activation {name!r}; it goes with relu", stacklevel=2)
        fn = _ACTIVATIONS["relu"]
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(fn(x), dtype=np.float32)


# ----------------------------------------------------------------------------------------------------
# im2col.c, convolutional_layer.c, batchnorm_layer.c, connected_layer.c, local_layer.c
# ----------------------------------------------------------------------------------------------------

def im2col(x_chw, size, stride, pad):
    """``im2col_cpu``: ``(C, H, W)`` -> ``(C*size*size, out_h*out_w)``, ``pad`` zero pixels each side,
    ``out = (H + 2*pad - size)/stride + 1``; row ``(c*size + kh)*size + kw``."""
    x = _f32(x_chw)
    c, h, w = x.shape
    out_h = _cdiv(h + 2 * pad - size, stride) + 1
    out_w = _cdiv(w + 2 * pad - size, stride) + 1
    out_h, out_w = max(out_h, 0), max(out_w, 0)
    padded = np.zeros((c, h + 2 * pad, w + 2 * pad), dtype=np.float32)
    padded[:, pad:pad + h, pad:pad + w] = x
    cols = np.zeros((c, size, size, out_h, out_w), dtype=np.float32)
    for kh in range(size):
        for kw in range(size):
            rows = kh + stride * np.arange(out_h)
            colsi = kw + stride * np.arange(out_w)
            cols[:, kh, kw] = padded[:, rows[:, None], colsi[None, :]]
    return cols.reshape(c * size * size, out_h * out_w)


def _batchnorm_test(out_cs, scales, rolling_mean, rolling_variance, biases):
    """``forward_batchnorm_layer`` with net.train = 0 on ``(C, spatial)``: normalize_cpu, scale_bias,
    add_bias."""
    mean = _f32(rolling_mean).reshape(-1, 1)
    var = _f32(rolling_variance).reshape(-1, 1)
    denom = np.sqrt(var.astype(np.float64)) + np.float64(F32(CPU_BATCHNORM_EPSILON))
    normed = ((out_cs - mean).astype(np.float64) / denom).astype(np.float32)
    normed = normed * _f32(scales).reshape(-1, 1)
    return normed + _f32(biases).reshape(-1, 1)


def forward_convolutional(x_chw, weights, biases, size, stride, pad, groups, activation,
                          scales=None, rolling_mean=None, rolling_variance=None):
    """``forward_convolutional_layer`` (CPU, test time): ``x_chw`` ``(C, H, W)``, ``weights``
    ``(n, C/groups, size, size)``, ``pad`` in pixels; returns ``(n, out_h, out_w)`` with
    ``out = (H + 2*pad - size)/stride + 1``.

    With ``scales`` (batch_normalize=1) the bias is added after normalize_cpu + scale_bias; without, by
    add_bias. Quirk kept: for ``size == 1`` the CPU skips im2col and reads the input as a
    ``(C/groups, out_h*out_w)`` matrix, which is only right for stride 1 and pad 0; elements past the end
    of this item's input are undefined in C and read as zeros here.
    """
    x = _f32(x_chw)
    c, h, w = x.shape
    wts = _f32(weights)
    n = wts.shape[0]
    cg = c // groups
    m = n // groups
    k = size * size * cg
    out_h = _cdiv(h + 2 * pad - size, stride) + 1
    out_w = _cdiv(w + 2 * pad - size, stride) + 1
    spatial = out_h * out_w
    flat = x.ravel()
    wmat = wts.reshape(n, -1)
    out = np.zeros((n, spatial), dtype=np.float32)
    for j in range(groups):
        start = j * cg * h * w
        if size == 1:
            buf = np.zeros(k * spatial, dtype=np.float32)
            avail = flat[start:start + k * spatial]
            buf[:avail.size] = avail
            b = buf.reshape(k, spatial)
        else:
            b = im2col(flat[start:start + cg * h * w].reshape(cg, h, w), size, stride, pad)
        out[j * m:(j + 1) * m] += wmat[j * m:(j + 1) * m, :k] @ b
    if scales is not None:
        out = _batchnorm_test(out, scales, rolling_mean, rolling_variance, biases)
    else:
        out = out + _f32(biases).reshape(-1, 1)
    return activate(out, activation).reshape(n, out_h, out_w)


def forward_connected(x_flat, weights, biases, activation, scales=None, rolling_mean=None,
                      rolling_variance=None):
    """``forward_connected_layer`` (test time): ``x_flat`` ``(inputs,)``, ``weights`` ``(outputs,
    inputs)`` as stored (gemm with B transposed); batch norm over ``outputs`` channels of spatial 1.
    Returns ``(outputs,)``."""
    x = _f32(x_flat).ravel()
    wmat = _f32(weights).reshape(-1, x.size)
    out = (wmat @ x).reshape(-1, 1)
    if scales is not None:
        out = _batchnorm_test(out, scales, rolling_mean, rolling_variance, biases)
    else:
        out = out + _f32(biases).reshape(-1, 1)
    return activate(out.ravel(), activation)


def local_out_size(h, w, size, stride, pad):
    """``local_out_height``/``local_out_width``: ``pad`` is a flag here (``H - 1`` if set, else
    ``H - size``), then ``/stride + 1``."""
    oh = _cdiv(h - (1 if pad else size), stride) + 1
    ow = _cdiv(w - (1 if pad else size), stride) + 1
    return oh, ow


def forward_local(x_chw, weights, biases, n, size, stride, pad, activation):
    """``forward_local_layer``: ``x_chw`` ``(C, H, W)``; ``weights`` flat ``(locations*n*C*size*size)``
    (per output location an ``(n, C*size*size)`` matrix); ``biases`` flat ``(n*locations)``; returns
    ``(n, out_h, out_w)``.

    The output size comes from ``local_out_size`` (``pad`` as a flag) while im2col_cpu gets ``pad`` as
    pixels. When the two disagree (e.g. size 5, pad 1) Darknet still reads the im2col buffer with a row
    length of ``locations``; this port does the same, reading zeros past what im2col wrote (undefined in
    C).
    """
    x = _f32(x_chw)
    c, h, w = x.shape
    out_h, out_w = local_out_size(h, w, size, stride, pad)
    locations = out_h * out_w
    k = size * size * c
    col = im2col(x, size, stride, pad).ravel()
    buf = np.zeros(max(col.size, k * locations), dtype=np.float32)
    buf[:col.size] = col
    b = buf[:k * locations].reshape(k, locations)
    wts = _f32(weights).reshape(locations, n, k)
    out = _f32(biases).reshape(n, locations) + np.einsum("jok,kj->oj", wts, b).astype(np.float32)
    return activate(out, activation).reshape(n, out_h, out_w)


# ----------------------------------------------------------------------------------------------------
# shortcut_layer.c + blas.c shortcut_cpu, upsample_cpu; maxpool, avgpool, crop, reorg
# ----------------------------------------------------------------------------------------------------

def shortcut(out_chw, add_chw, alpha=1.0, beta=1.0):
    """``shortcut_cpu(batch=1, w1, h1, c1, add, w2, h2, c2, s1=alpha, s2=beta, out)``: ``add_chw``
    ``(c1, h1, w1)`` is the ``from`` map, ``out_chw`` ``(c2, h2, w2)`` the current map. Returns the new
    ``out`` (a copy), before activation: ``alpha*out + beta*add`` on the overlapping, strided/sampled
    positions; the rest of ``out`` unchanged."""
    out = np.array(out_chw, dtype=np.float32, copy=True)
    add = _f32(add_chw)
    c1, h1, w1 = add.shape
    c2, h2, w2 = out.shape
    stride = w1 // w2
    sample = w2 // w1
    if stride != h1 // h2 or sample != h2 // h1:
        raise AssertionError("shortcut_cpu asserts stride == h1/h2 and sample == h2/h1")
    stride, sample = max(stride, 1), max(sample, 1)
    minw, minh, minc = min(w1, w2), min(h1, h2), min(c1, c2)
    oview = out[:minc, 0:minh * sample:sample, 0:minw * sample:sample]
    aview = add[:minc, 0:minh * stride:stride, 0:minw * stride:stride]
    out[:minc, 0:minh * sample:sample, 0:minw * sample:sample] = F32(alpha) * oview + F32(beta) * aview
    return out


def forward_shortcut(prev_chw, from_chw, activation, alpha=1.0, beta=1.0):
    """``forward_shortcut_layer``: copy the previous layer's output ``(C, H, W)``, shortcut_cpu the
    ``from`` layer's output into it, activate. Returns ``(C, H, W)``."""
    return activate(shortcut(prev_chw, from_chw, alpha, beta), activation)


def upsample(x_chw, stride, scale=1.0):
    """``upsample_cpu`` forward (stride > 0): ``(C, H, W)`` -> ``(C, H*stride, W*stride)``, each input
    pixel repeated stride x stride times and multiplied by ``scale``."""
    x = _f32(x_chw)
    if stride <= 0:
        raise ValueError("only the forward upsample (stride > 0) is ported")
    return F32(scale) * np.repeat(np.repeat(x, stride, axis=1), stride, axis=2)


def forward_maxpool(x_chw, size, stride, padding):
    """``forward_maxpool_layer``: ``padding`` is the total (cfg ``padding``, default ``size - 1``), the
    window starts ``padding/2`` pixels before; ``out = (H + padding - size)/stride + 1``. Out-of-range
    taps count as ``-FLT_MAX`` (Darknet's value, not -inf). Returns ``(C, out_h, out_w)``."""
    x = _f32(x_chw)
    c, h, w = x.shape
    out_h = _cdiv(h + padding - size, stride) + 1
    out_w = _cdiv(w + padding - size, stride) + 1
    off = -_cdiv(padding, 2)
    out = np.full((c, out_h, out_w), -FLT_MAX, dtype=np.float32)
    for n in range(size):
        rows = off + np.arange(out_h) * stride + n
        rvalid = (rows >= 0) & (rows < h)
        for m in range(size):
            cols = off + np.arange(out_w) * stride + m
            cvalid = (cols >= 0) & (cols < w)
            vals = x[:, np.clip(rows, 0, h - 1)[:, None], np.clip(cols, 0, w - 1)[None, :]]
            valid = rvalid[:, None] & cvalid[None, :]
            vals = np.where(valid[None], vals, F32(-FLT_MAX))
            out = np.where(vals > out, vals, out)
    return out


def forward_avgpool(x_chw):
    """``forward_avgpool_layer``: global average, ``(C, H, W)`` -> ``(C, 1, 1)``."""
    x = _f32(x_chw)
    c, h, w = x.shape
    return (x.reshape(c, h * w).sum(axis=1, dtype=np.float32) / F32(h * w)).reshape(c, 1, 1)


def forward_crop_test(x_chw, crop_height, crop_width, noadjust=False):
    """``forward_crop_layer`` with net.train = 0: the centred ``(crop_height, crop_width)`` window,
    offsets ``(H - crop_h)/2`` and ``(W - crop_w)/2``, no flip, then ``x*2 - 1`` (or ``x*1 + 0`` with
    ``noadjust``). Returns ``(C, crop_height, crop_width)``."""
    x = _f32(x_chw)
    _, h, w = x.shape
    if crop_height > h or crop_width > w:
        raise ValueError("a crop larger than its input reads outside the buffer in Darknet")
    dh = _cdiv(h - crop_height, 2)
    dw = _cdiv(w - crop_width, 2)
    scale, trans = (F32(1), F32(0)) if noadjust else (F32(2), F32(-1))
    return x[:, dh:dh + crop_height, dw:dw + crop_width] * scale + trans


def forward_reorg_extra(x_chw, extra):
    """``forward_reorg_layer``'s ``extra`` branch: the input copied flat, followed by ``extra`` zeros
    (the calloc'd rest of the output). Returns ``(C*H*W + extra,)``."""
    x = _f32(x_chw).ravel()
    out = np.zeros(x.size + extra, dtype=np.float32)
    out[:x.size] = x
    return out


# ----------------------------------------------------------------------------------------------------
# blas.c softmax / softmax_cpu, softmax_layer.c, blas_kernels.cu softmax_tree
# ----------------------------------------------------------------------------------------------------

def softmax(x, temperature=1.0):
    """``softmax(input, n, temp, stride=1, output)`` of blas.c on a 1-D vector: subtract the largest,
    ``exp(x/temp - largest/temp)`` (double exp stored as float), divide by the float sum."""
    return _blas_softmax(x, temperature)


def _blas_softmax(x, temperature=1.0):
    x = _f32(x).ravel()
    if x.size == 0:
        return x.copy()
    t = F32(temperature)
    largest = max(F32(-FLT_MAX), x.max())
    e = np.exp((x / t - largest / t).astype(np.float64)).astype(np.float32)
    return e / e.sum(dtype=np.float32)


def forward_softmax(x_flat, groups=1, temperature=1.0):
    """``forward_softmax_layer`` without a tree: softmax_cpu over ``groups`` contiguous slices of
    ``inputs/groups`` entries. Returns ``(inputs,)``."""
    x = _f32(x_flat).ravel()
    per = x.size // groups
    out = np.zeros_like(x)
    for g in range(groups):
        out[g * per:(g + 1) * per] = softmax(x[g * per:(g + 1) * per], temperature)
    return out


@dataclass
class DarknetTree:
    """The fields ``read_tree`` fills in tree.c's ``tree`` struct (int fields as int arrays)."""

    parent: np.ndarray
    child: np.ndarray
    group: np.ndarray
    group_size: np.ndarray
    group_offset: np.ndarray
    leaf: np.ndarray
    name: list = field(default_factory=list)
    n: int = 0
    groups: int = 0


_TREE_LINE = re.compile(r"\s*(\S+)(?:\s*([+-]?\d+))?")


def read_tree(path):
    """``read_tree`` of tree.c: one node a line, ``name parent``; ``sscanf("%s %d")`` semantics (a
    missing or unparsable parent stays -1). A new group starts whenever the parent differs from the
    previous line's; ``group[i]`` is that group's index, ``child[p]`` the last group whose parent is
    ``p``; ``leaf[i]`` is 1 unless some node names ``i`` as parent. A first line whose parent is not -1
    yields an empty group 0, as in C."""
    with open(path, encoding="utf-8", errors="surrogateescape", newline="") as f:
        text = f.read()
    lines = text.split("\n")
    if text.endswith("\n") or text == "":
        lines = lines[:-1]
    parent, child, group, names = [], [], [], []
    group_size_list, group_offset_list = [], []
    last_parent, gsize, groups, n = -1, 0, 0, 0
    for line in lines:
        m = _TREE_LINE.match(line)
        name = m.group(1) if m else ""
        p = int(m.group(2)) if m and m.group(2) is not None else -1
        parent.append(p)
        child.append(-1)
        names.append(name)
        if p != last_parent:
            groups += 1
            group_offset_list.append(n - gsize)
            group_size_list.append(gsize)
            gsize = 0
            last_parent = p
        group.append(groups)
        if 0 <= p < len(child):
            child[p] = groups
        n += 1
        gsize += 1
    groups += 1
    group_offset_list.append(n - gsize)
    group_size_list.append(gsize)
    leaf = np.ones(n, dtype=np.int32)
    for p in parent:
        if 0 <= p < n:
            leaf[p] = 0
    return DarknetTree(
        parent=np.array(parent, dtype=np.int32), child=np.array(child, dtype=np.int32),
        group=np.array(group, dtype=np.int32), group_size=np.array(group_size_list, dtype=np.int32),
        group_offset=np.array(group_offset_list, dtype=np.int32), leaf=leaf, name=names, n=n,
        groups=groups)


def _softmax_device(vals, temperature):
    """``softmax_device`` of blas_kernels.cu on rows of ``vals``: the largest is taken over the values
    truncated to int (``int val = input[i]``), which only shifts the exponent."""
    t = F32(temperature)
    largest = np.trunc(vals).max(axis=-1, keepdims=True).astype(np.float32)
    e = np.exp(vals / t - largest / t).astype(np.float32)
    return e / e.sum(axis=-1, keepdims=True, dtype=np.float32)


def _softmax_tree_into(inp, out, spatial, batch, stride, tree, temperature):
    for g in range(tree.groups):
        size = int(tree.group_size[g])
        if size == 0:
            continue
        goff = int(tree.group_offset[g]) * spatial
        base = goff + np.arange(batch)[:, None] * stride + np.arange(spatial)[None, :]
        idx = base[..., None] + np.arange(size) * spatial
        out[idx] = _softmax_device(inp[idx], temperature)


def softmax_tree(x_flat, spatial, batch, stride, tree, temperature=1.0):
    """The GPU ``softmax_tree`` wrapper + ``softmax_tree_kernel``: for every batch item ``b`` (offset
    ``b*stride``), group ``g`` and spatial position ``s``, a softmax over the ``group_size[g]`` entries
    ``group_offset[g]*spatial + s + i*spatial``. Entries outside every group are returned unchanged.
    Returns a copy of the flat input."""
    x = _f32(x_flat).ravel()
    out = x.copy()
    with np.errstate(over="ignore", invalid="ignore"):
        _softmax_tree_into(x, out, spatial, batch, stride, tree, temperature)
    return out


def forward_softmax_tree_layer(x_flat, tree, temperature=1.0):
    """``forward_softmax_layer``'s tree branch (CPU; same as the GPU kernel on a 1x1 map): blas.c
    softmax over each group's contiguous entries in turn, the running offset being the sum of the
    group sizes. Entries past the last group stay 0 (the calloc'd output). Returns ``(inputs,)``."""
    x = _f32(x_flat).ravel()
    out = np.zeros_like(x)
    count = 0
    for g in range(tree.groups):
        size = int(tree.group_size[g])
        out[count:count + size] = softmax(x[count:count + size], temperature)
        count += size
    return out


# ----------------------------------------------------------------------------------------------------
# tree.c hierarchy_predictions / hierarchy_top_prediction
# ----------------------------------------------------------------------------------------------------

def _tree_levels(tree, n):
    """Nodes ``0..n-1`` grouped by depth, or None when a parent does not precede its child (then only
    the sequential loop reproduces C's order)."""
    n = min(n, tree.n)
    parent = tree.parent[:n].astype(np.int64)
    idx = np.arange(n)
    if np.any(parent >= idx):
        return None
    depth = np.zeros(n, dtype=np.int64)
    anc = parent.copy()
    while np.any(anc >= 0):
        depth += anc >= 0
        anc = np.where(anc >= 0, tree.parent[np.clip(anc, 0, None)], -1)
    return [np.nonzero(depth == d)[0] for d in range(1, int(depth.max(initial=0)) + 1)]


def _hierarchy_predictions_inplace(pred, n, tree, only_leaves, stride, levels):
    if n > tree.n:
        raise ValueError(f"hierarchy_predictions over {n} classes reads past a {tree.n}-node tree")
    if levels is None:
        for j in range(n):
            p = int(tree.parent[j])
            if p >= 0:
                pred[j * stride] = pred[j * stride] * pred[p * stride]
    else:
        for nodes in levels:
            pred[nodes * stride] = pred[nodes * stride] * pred[tree.parent[nodes].astype(np.int64) * stride]
    if only_leaves:
        nodes = np.nonzero(tree.leaf[:n] == 0)[0]
        pred[nodes * stride] = 0


def hierarchy_predictions(pred, n, tree, only_leaves, stride):
    """``hierarchy_predictions`` of tree.c: in node order, ``pred[j*stride] *= pred[parent[j]*stride]``
    (the parent already multiplied when it comes first), then with ``only_leaves`` zero every non-leaf.
    Works on a float32 copy of the flat ``pred`` and returns it."""
    out = np.array(pred, dtype=np.float32, copy=True).ravel()
    _hierarchy_predictions_inplace(out, n, tree, only_leaves, stride, _tree_levels(tree, n))
    return out


def hierarchy_top_prediction(pred, tree, thresh, stride):
    """``hierarchy_top_prediction`` of tree.c: from group 0, take each group's largest entry (index 0
    when none is > 0) while the running product stays > ``thresh``; return the leaf reached, group 0's
    best, or the parent of the group where it stopped. Returns a node index."""
    pred = np.asarray(pred).ravel()
    p = F32(1)
    group = 0
    while True:
        best = F32(0)
        best_i = 0
        off = int(tree.group_offset[group])
        for i in range(int(tree.group_size[group])):
            val = F32(pred[(i + off) * stride])
            if val > best:
                best_i = i + off
                best = val
        if p * best > thresh:
            p = F32(p * best)
            group = int(tree.child[best_i])
            if tree.child[best_i] < 0:
                return best_i
        elif group == 0:
            return best_i
        else:
            return int(tree.parent[int(tree.group_offset[group])])


# ----------------------------------------------------------------------------------------------------
# region_layer.c (YOLOv2 / YOLO9000)
# ----------------------------------------------------------------------------------------------------

def _entry_index(w, h, entries, location, entry):
    """``entry_index(l, 0, location, entry)`` of region_layer.c / yolo_layer.c with ``entries`` =
    coords + classes + 1 (yolo: 4 + classes + 1)."""
    n = location // (w * h)
    loc = location % (w * h)
    return n * w * h * entries + entry * w * h + loc


def forward_region(x_chw, n, classes, coords, softmax, tree=None, background=0):
    """``forward_region_layer`` at test time on ``(n*(coords+classes+1), H, W)``: logistic on x, y and
    (unless ``background``) the objectness; then the tree softmax (GPU ``softmax_tree`` semantics, temp
    1), or softmax_cpu over ``classes + background`` entries starting at ``coords + !background``, or
    logistic on the classes when neither. Returns the flat output (entry_index layout).

    Where the CPU and GPU builds differ: the CPU tree branch (softmax_cpu with ``n*w*h`` groups from
    the raw offset ``coords + 1``) ignores the entry_index layout, so this port follows the GPU kernel;
    the GPU also applies logistic to entries 4..coords-1 when coords > 4, the CPU (followed here) does
    not.
    """
    x = _f32(x_chw)
    _, h, w = x.shape
    wh = w * h
    entries = coords + classes + 1
    inp = x.ravel()
    out = inp.copy()
    with np.errstate(over="ignore", invalid="ignore"):
        for a in range(n):
            i0 = _entry_index(w, h, entries, a * wh, 0)
            out[i0:i0 + 2 * wh] = activate(out[i0:i0 + 2 * wh], "logistic")
            io = _entry_index(w, h, entries, a * wh, coords)
            if not background:
                out[io:io + wh] = activate(out[io:io + wh], "logistic")
            ic = _entry_index(w, h, entries, a * wh, coords + 1)
            if not softmax and tree is None:
                out[ic:ic + classes * wh] = activate(out[ic:ic + classes * wh], "logistic")
        if tree is not None:
            idx = _entry_index(w, h, entries, 0, coords + 1)
            _softmax_tree_into(inp[idx:], out[idx:], wh, n, inp.size // n, tree, 1.0)
        elif softmax:
            idx = _entry_index(w, h, entries, 0, coords + (0 if background else 1))
            k = classes + background
            for a in range(n):
                base = idx + a * (inp.size // n)
                sel = base + np.arange(wh)[:, None] + np.arange(k)[None, :] * wh
                for s in range(wh):
                    out[sel[s]] = _blas_softmax(inp[sel[s]], 1.0)
    return out


def _region_box(pred, anchors, a, index, col, row, w, h, stride):
    """``get_region_box``: x, y from the (already logistic) offsets, w, h = exp(t) * anchor / grid."""
    bx = (F32(col) + pred[index]) / F32(w)
    by = (F32(row) + pred[index + stride]) / F32(h)
    bw = F32(np.exp(np.float64(pred[index + 2 * stride])) * np.float64(F32(anchors[2 * a])) / w)
    bh = F32(np.exp(np.float64(pred[index + 3 * stride])) * np.float64(F32(anchors[2 * a + 1])) / h)
    return (float(bx), float(by), float(bw), float(bh))


def get_region_detections(output_flat, w, h, n, classes, coords, anchors, thresh, tree=None,
                          tree_thresh=0.5, background=0):
    """``get_region_detections`` (map = NULL, batch 1) on a ``forward_region`` output: one detection
    per ``index = a*w*h + i`` in that order, ``{bbox: (x, y, w, h) relative centre form, objectness,
    prob: (classes,) float32}``. ``anchors`` is the cfg's flat ``anchors=`` list (grid units).

    ``objectness`` is the sigmoid score (1 with ``background``) when > ``thresh``, else 0. Without a tree
    and with objectness > 0, ``prob[j] = objectness*class_j`` when > ``thresh``. With a tree,
    ``hierarchy_predictions`` (stride w*h, not only leaves) runs on a copy of the output, then
    ``prob[hierarchy_top_prediction(..., tree_thresh)] = score if score > thresh``. Boxes go through
    ``correct_region_boxes`` with relative = 1 and image size = network size, which is the identity
    (new_w = netw, new_h = neth), so it is left out.
    """
    pred = np.array(output_flat, dtype=np.float32, copy=True).ravel()
    wh = w * h
    entries = coords + classes + 1
    levels = _tree_levels(tree, classes) if tree is not None else None
    dets = [None] * (n * wh)
    for i in range(wh):
        row, col = divmod(i, w)
        for a in range(n):
            index = a * wh + i
            prob = np.zeros(classes, dtype=np.float32)
            obj_index = _entry_index(w, h, entries, index, coords)
            box_index = _entry_index(w, h, entries, index, 0)
            scale = F32(1) if background else pred[obj_index]
            bbox = _region_box(pred, anchors, a, box_index, col, row, w, h, wh)
            objectness = scale if scale > thresh else F32(0)
            if tree is not None:
                class_index = _entry_index(w, h, entries, index, coords + (0 if background else 1))
                view = pred[class_index:]
                _hierarchy_predictions_inplace(view, classes, tree, 0, wh, levels)
                j = hierarchy_top_prediction(view, tree, tree_thresh, wh)
                prob[j] = scale if scale > thresh else F32(0)
            elif objectness:
                for j in range(classes):
                    p = scale * pred[_entry_index(w, h, entries, index, coords + 1 + j)]
                    prob[j] = p if p > thresh else F32(0)
            dets[index] = {"bbox": bbox, "objectness": float(objectness), "prob": prob}
    return dets


get_region_boxes = get_region_detections


# ----------------------------------------------------------------------------------------------------
# detection_layer.c (YOLOv1)
# ----------------------------------------------------------------------------------------------------

def forward_detection(x_flat, side, n, classes, coords, softmax, sqrt):
    """``forward_detection_layer`` at test time: the input copied; with ``softmax``, a softmax over
    each cell's ``classes`` entries (the first ``side*side*classes`` values). ``coords`` and ``sqrt``
    only matter in training and when decoding. Returns ``(side*side*((1+coords)*n + classes),)``."""
    out = np.array(x_flat, dtype=np.float32, copy=True).ravel()
    if softmax:
        for i in range(side * side):
            out[i * classes:(i + 1) * classes] = _blas_softmax(out[i * classes:(i + 1) * classes])
    return out


def get_detection_detections(output_flat, side, n, classes, sqrt, thresh, w=1, h=1):
    """``get_detection_detections``: per cell ``i`` and box ``k`` (list index ``i*n + k``), box
    ``((x + col)/side*w, (y + row)/side*h, w_out^(sqrt?2:1)*w, h_out^(sqrt?2:1)*h)``, ``objectness`` the
    raw scale, ``prob[j] = scale*class_j`` when > ``thresh``. With ``w = h = 1`` boxes are relative."""
    pred = _f32(output_flat).ravel()
    power = 2.0 if sqrt else 1.0
    dets = []
    for i in range(side * side):
        row, col = divmod(i, side)
        for k in range(n):
            scale = pred[side * side * classes + i * n + k]
            bi = side * side * (classes + n) + (i * n + k) * 4
            bx = (pred[bi] + F32(col)) / F32(side) * F32(w)
            by = (pred[bi + 1] + F32(row)) / F32(side) * F32(h)
            bw = F32(np.float64(pred[bi + 2]) ** power * w)
            bh = F32(np.float64(pred[bi + 3]) ** power * h)
            prob = scale * pred[i * classes:(i + 1) * classes]
            prob = np.where(prob > thresh, prob, F32(0)).astype(np.float32)
            dets.append({"bbox": (float(bx), float(by), float(bw), float(bh)),
                         "objectness": float(scale), "prob": prob})
    return dets


# ----------------------------------------------------------------------------------------------------
# yolo_layer.c (YOLOv3)
# ----------------------------------------------------------------------------------------------------

def forward_yolo(x_chw, n_masked, classes):
    """``forward_yolo_layer`` at test time on ``(n_masked*(4+1+classes), H, W)``: logistic on x, y and
    on objectness + classes of every anchor; w, h raw. Returns the flat output."""
    x = _f32(x_chw)
    _, h, w = x.shape
    wh = w * h
    entries = 4 + classes + 1
    out = x.ravel().copy()
    with np.errstate(over="ignore"):
        for a in range(n_masked):
            i0 = _entry_index(w, h, entries, a * wh, 0)
            out[i0:i0 + 2 * wh] = activate(out[i0:i0 + 2 * wh], "logistic")
            i4 = _entry_index(w, h, entries, a * wh, 4)
            out[i4:i4 + (1 + classes) * wh] = activate(out[i4:i4 + (1 + classes) * wh], "logistic")
    return out


def get_yolo_detections(output_flat, w, h, mask, anchors, classes, netw, neth, thresh):
    """``get_yolo_detections`` (batch 1, map = NULL, relative = 1, image size = network size): only
    entries whose objectness > ``thresh``, in Darknet's order (location ``i`` outer, masked anchor
    inner). Box ``((col + x)/w, (row + y)/h, exp(tw)*anchor_w/netw, exp(th)*anchor_h/neth)`` with
    ``anchors`` the cfg's pixel list and ``mask`` its indices; ``prob[j] = objectness*class_j`` when >
    ``thresh``. ``correct_yolo_boxes`` is the identity here (netw/w == neth/h gives new_w = netw,
    new_h = neth, and relative skips the scaling)."""
    pred = _f32(output_flat).ravel()
    wh = w * h
    entries = 4 + classes + 1
    dets = []
    for i in range(wh):
        row, col = divmod(i, w)
        for a, m in enumerate(mask):
            objectness = pred[_entry_index(w, h, entries, a * wh + i, 4)]
            if not objectness > thresh:
                continue
            bi = _entry_index(w, h, entries, a * wh + i, 0)
            bx = (F32(col) + pred[bi]) / F32(w)
            by = (F32(row) + pred[bi + wh]) / F32(h)
            bw = F32(np.exp(np.float64(pred[bi + 2 * wh])) * np.float64(F32(anchors[2 * m])) / netw)
            bh = F32(np.exp(np.float64(pred[bi + 3 * wh])) * np.float64(F32(anchors[2 * m + 1])) / neth)
            ci = _entry_index(w, h, entries, a * wh + i, 5)
            prob = objectness * pred[ci:ci + classes * wh:wh]
            prob = np.where(prob > thresh, prob, F32(0)).astype(np.float32)
            dets.append({"bbox": (float(bx), float(by), float(bw), float(bh)),
                         "objectness": float(objectness), "prob": prob})
    return dets


# ----------------------------------------------------------------------------------------------------
# box.c
# ----------------------------------------------------------------------------------------------------

def _overlap(x1, w1, x2, w2):
    left = max(x1 - w1 / F32(2), x2 - w2 / F32(2))
    right = min(x1 + w1 / F32(2), x2 + w2 / F32(2))
    return F32(right - left)


def box_iou(a, b):
    """``box_iou`` of box.c on centre-form ``(x, y, w, h)`` boxes, in float32: intersection (0 when an
    overlap is negative) over ``a.w*a.h + b.w*b.h - intersection``."""
    ax, ay, aw, ah = (F32(v) for v in a)
    bx, by, bw, bh = (F32(v) for v in b)
    ow = _overlap(ax, aw, bx, bw)
    oh = _overlap(ay, ah, by, bh)
    inter = F32(0) if (ow < 0 or oh < 0) else F32(ow * oh)
    union = F32(aw * ah + bw * bh - inter)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(F32(inter / union))


def do_nms_sort(dets, classes, thresh):
    """``do_nms_sort`` of box.c on the list-of-dicts form, in place (the list is reordered and the
    ``prob`` arrays zeroed as Darknet does); returns the list. Detections with objectness 0 are first
    swapped to the end (Darknet's swap loop, which reorders), then for each class the rest is sorted by
    that class's prob, descending, and any later box with IoU > ``thresh`` with a kept nonzero one gets
    that prob set to 0. The sort is stable (glibc's merge-sort qsort; C's qsort guarantees no order for
    ties)."""
    total = len(dets)
    k = total - 1
    i = 0
    while i <= k:
        if dets[i]["objectness"] == 0:
            dets[i], dets[k] = dets[k], dets[i]
            k -= 1
            i -= 1
        i += 1
    total = k + 1
    for c in range(classes):
        dets[:total] = sorted(dets[:total], key=lambda d, c=c: -float(d["prob"][c]))
        for i in range(total):
            if dets[i]["prob"][c] == 0:
                continue
            a = dets[i]["bbox"]
            for j in range(i + 1, total):
                if box_iou(a, dets[j]["bbox"]) > thresh:
                    dets[j]["prob"][c] = 0
    return dets
