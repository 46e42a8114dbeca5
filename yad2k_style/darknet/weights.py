"""Darknet's binary ``.weights`` format: header, then each weighted layer's floats in cfg order.

Header: int32 ``major, minor, revision``, then ``seen`` (images trained on) as int64 when
``major * 10 + minor >= 2`` (both below 1000), else int32 — 20 or 16 bytes. Then, as Darknet's
``load_weights_upto`` reads them, float32 little-endian:

- ``[convolutional]``: ``biases[n]``; with ``batch_normalize`` also ``scales[n]``, ``rolling_mean[n]``,
  ``rolling_variance[n]``; then ``weights[n * c/groups * size * size]`` in (out, in, h, w) order;
- ``[connected]``: ``biases[outputs]``, ``weights[outputs * inputs]`` (row per output, inputs in
  Darknet's (C, H, W) order), then with ``batch_normalize`` ``scales``, ``rolling_mean``,
  ``rolling_variance``;
- ``[local]``: ``biases[n * locations]`` in (n, out_h, out_w) order, then ``weights`` as
  (locations, n, c, size, size).

Other layers have no weights.
"""

import os
import warnings
from dataclasses import dataclass

import numpy as np

from yad2k_style.darknet.errors import NotDarknetWeightsError, WeightsCountError, WeightsMismatchError
from yad2k_style.errors import FormatError, YadWarning
from yad2k_style.files import atomic_write
from yad2k_style.netspec import Connected, Convolutional, Local
from yad2k_style.progress import Progress

FLOAT = np.dtype("<f4")
VERSION_LIMIT = 1000  # Darknet's own bound for major and minor; real files have 0.1 or 0.2
KERNEL_CHUNK = 2**21  # floats (8 MB) read at a time when kernels are streamed


@dataclass(frozen=True)
class Header:
    """The weights file's header; ``seen`` is stored as int64 when :attr:`wide_seen`."""

    major: int = 0
    minor: int = 2
    revision: int = 0
    seen: int = 0

    @property
    def wide_seen(self):
        return self.major * 10 + self.minor >= 2 and self.major < 1000 and self.minor < 1000

    @property
    def size(self):
        """Bytes: 20 with an int64 ``seen``, else 16."""
        return 20 if self.wide_seen else 16

    def to_bytes(self):
        seen = np.array([self.seen], "<i8" if self.wide_seen else "<i4")
        return np.array([self.major, self.minor, self.revision], "<i4").tobytes() + seen.tobytes()


@dataclass(frozen=True)
class LayerWeights:
    """One weighted layer's arrays as Darknet stores them (float32).

    ``biases`` are the batch norm's beta when ``scales`` is not None; ``scales``, ``rolling_mean``,
    ``rolling_variance`` are None without batch norm; ``kernel`` is in Darknet's order
    (:class:`Layout`'s ``kernel_shape``); ``norm_last``: the batch-norm vectors come after the kernel
    in the file (``[connected]``).
    """

    biases: np.ndarray
    kernel: np.ndarray
    scales: np.ndarray | None = None
    rolling_mean: np.ndarray | None = None
    rolling_variance: np.ndarray | None = None
    norm_last: bool = False

    @property
    def norm(self):
        return () if self.scales is None else (self.scales, self.rolling_mean, self.rolling_variance)

    def arrays(self):
        """The arrays in file order."""
        if self.norm_last:
            return (self.biases, self.kernel, *self.norm)
        return (self.biases, *self.norm, self.kernel)


@dataclass(frozen=True)
class DarknetWeights:
    """A read weights file: its header, one :class:`LayerWeights` per weighted layer (cfg order), the
    floats read and the floats in the file."""

    header: Header
    convs: list
    floats_read: int
    floats_in_file: int


@dataclass(frozen=True)
class Layout:
    """Where a weighted layer's floats go: layer ``index`` of the cfg, its ``spec``, ``biases`` floats,
    ``kernel_shape`` (Darknet's order; read in runs along its first axis) and whether it has batch-norm
    vectors (``outputs`` floats each)."""

    index: int
    spec: object
    biases: int
    kernel_shape: tuple
    outputs: int

    @property
    def batch_normalize(self):
        return getattr(self.spec, "batch_normalize", False)

    @property
    def norm_last(self):
        return isinstance(self.spec, Connected)

    @property
    def head(self):
        """Floats before the kernel: the biases, and for a convolution its batch-norm vectors."""
        return self.biases + (3 * self.outputs if self.batch_normalize and not self.norm_last else 0)

    @property
    def tail(self):
        """Floats after the kernel: a connected layer's batch-norm vectors."""
        return 3 * self.outputs if self.batch_normalize and self.norm_last else 0

    @property
    def floats(self):
        return self.head + int(np.prod(self.kernel_shape)) + self.tail


def layouts(cfg):
    """The :class:`Layout` of each weighted layer of ``cfg``, in file order."""
    shapes = cfg.layer_shapes()
    result = []
    for index, spec in enumerate(cfg.layers):
        height, width, channels = shapes[index - 1] if index else (*cfg.net.input_shape[:2], cfg.net.channels)
        if isinstance(spec, Convolutional):
            shape = (spec.filters, channels // spec.groups, spec.size, spec.size)
            result.append(Layout(index, spec, spec.filters, shape, spec.filters))
        elif isinstance(spec, Connected):
            result.append(Layout(index, spec, spec.outputs, (spec.outputs, height * width * channels),
                                 spec.outputs))
        elif isinstance(spec, Local):
            out_height, out_width, _ = shapes[index]
            locations = out_height * out_width
            result.append(Layout(index, spec, spec.filters * locations,
                                 (locations, spec.filters, channels, spec.size, spec.size), spec.filters))
    return result


def float_count(cfg):
    """Floats a weights file for ``cfg`` holds after its header."""
    return sum(layout.floats for layout in layouts(cfg))


def read_header(file, path, file_size):
    """Read the header from the open binary ``file`` (``file_size`` bytes) → :class:`Header`."""
    if file_size < 16:
        raise NotDarknetWeightsError(
            path, f"not a Darknet weights file: {file_size} bytes, shorter than the 16-byte header")
    start = file.read(12)
    major, minor, revision = (int(v) for v in np.frombuffer(start, "<i4"))
    if not all(0 <= v < VERSION_LIMIT for v in (major, minor, revision)):
        text = start.isascii() and start.decode().strip().startswith(("[", "#", ";"))
        raise NotDarknetWeightsError(
            path, f"not a Darknet weights file: header version {major}.{minor}.{revision} "
                  f"(Darknet's major, minor and revision are small non-negative numbers)"
                  + ("; it looks like a .cfg: are the cfg and weights swapped?" if text else ""))
    wide = Header(major, minor, revision).wide_seen
    if wide and file_size < 20:
        raise NotDarknetWeightsError(
            path, f"not a Darknet weights file: {file_size} bytes, shorter than the 20-byte header "
                  f"of version {major}.{minor}")
    seen = int(np.frombuffer(file.read(8 if wide else 4), "<i8" if wide else "<i4")[0])
    return Header(major, minor, revision, seen)


def read_weights(path, cfg, allow_extra=False, progress=False, load_kernel=None):
    """Read ``path`` for the network ``cfg`` (:class:`~yad2k_style.darknet.cfg.DarknetCfg`).

    Errors: fewer floats than ``cfg`` needs or (unless ``allow_extra``, then a :class:`YadWarning`)
    more → :class:`WeightsCountError`; a batch norm's rolling variances negative or not finite (the floats
    are misaligned: the file belongs to another cfg) → :class:`WeightsMismatchError`. With
    ``progress`` a bar counts the floats read (on a terminal only).

    ``load_kernel(position, chunks)`` streams the kernels instead of keeping them: it is called for each
    convolution (``position`` in cfg order) with an iterator of ``(first filter, float32 array
    (k, C_in, h, w))`` of at most :data:`KERNEL_CHUNK` floats each, and the returned
    :class:`LayerWeights` have ``kernel=None``; memory then holds one chunk, not the file.
    """
    needed = float_count(cfg)
    try:
        file_size = os.path.getsize(path)
    except FileNotFoundError:
        raise FormatError(path, "file not found") from None
    with open(path, "rb") as file, Progress(needed if progress else 0, "float") as bar:
        header = read_header(file, path, file_size)
        available, odd_bytes = divmod(file_size - header.size, FLOAT.itemsize)
        _check_size(path, cfg, needed, available, odd_bytes, allow_extra)  # before any float is read
        convs, offset = [], 0
        for position, layout in enumerate(layouts(cfg)):
            where = cfg.where(layout.index)
            head = np.fromfile(file, FLOAT, min(layout.head, available - offset))
            if layout.batch_normalize and not layout.norm_last and head.size == layout.head:
                _check_variances(head[-layout.outputs:], path, where)  # misaligned: before "truncated"
            _check_finite(head, path, where, "biases or batch-norm values")
            if available - offset < layout.floats:
                raise WeightsCountError(
                    path, f"truncated: {cfg.path} needs {needed:,} floats, the file has {available:,}; "
                          f"they run out in {where}, which needs {layout.floats:,} floats "
                          f"from float {offset:,}")
            if load_kernel is None:
                shape = layout.kernel_shape
                kernel = np.fromfile(file, FLOAT, int(np.prod(shape))).reshape(shape)
                _check_finite(kernel, path, where, "kernel")
            else:
                chunks = _kernel_chunks(file, layout.kernel_shape, lambda chunk, where=where:
                                        _check_finite(chunk, path, where, "kernel"))
                load_kernel(position, chunks)
                for _ in chunks:  # whatever the loader left unread: the file stays aligned
                    pass
                kernel = None
            tail = np.fromfile(file, FLOAT, layout.tail)
            _check_finite(tail, path, where, "batch-norm values")
            convs.append(_layer_weights(head, kernel, tail, layout, path, where))
            offset += layout.floats
            bar.update(offset)
    return DarknetWeights(header, convs, needed, available)


def _check_size(path, cfg, needed, available, odd_bytes, allow_extra):
    """More floats than ``cfg`` needs (or a partial float at the end): a :class:`WeightsCountError`,
    or with ``allow_extra`` a warning. Fewer are reported where they run out."""
    extra = available - needed
    if extra > 0 or odd_bytes:
        tail = f"{max(extra, 0):,} floats" + (f" and {odd_bytes} bytes" if odd_bytes else "")
        message = (f"{tail} left over after the {needed:,} that {cfg.path} needs "
                   f"(is this the cfg these weights were trained with?)")
        if extra < 0:  # too few as well: the loop says where they run out
            return
        if not allow_extra:
            raise WeightsCountError(path, f"{message}; --allow-extra accepts them")
        warnings.warn(f"{path}: ignoring {message}", YadWarning, stacklevel=3)


def _check_finite(values, path, where, what):
    """Weights that are NaN or infinite make every output NaN: a :class:`WeightsMismatchError` naming
    the layer."""
    bad = values.size - int(np.count_nonzero(np.isfinite(values)))
    if bad:
        raise WeightsMismatchError(path, f"{where}: {bad:,} of its {what} are NaN or infinite (a damaged "
                                         f"file, or one written for another cfg)")


def _kernel_chunks(file, shape, check):
    """``(first filter, float32 (k, C_in, h, w))`` read from ``file`` in pieces of at most
    :data:`KERNEL_CHUNK` floats (at least one filter each), each passed to ``check`` first."""
    per_filter = int(np.prod(shape[1:]))
    step = max(1, KERNEL_CHUNK // per_filter)
    for start in range(0, shape[0], step):
        filters = min(step, shape[0] - start)
        chunk = np.fromfile(file, FLOAT, filters * per_filter).reshape(filters, *shape[1:])
        check(chunk)
        yield start, chunk


def _layer_weights(head, kernel, tail, layout, path, where):
    """The :class:`LayerWeights` of a layer's floats before the kernel, its kernel and the floats after
    (their variances checked)."""
    biases = head[:layout.biases]
    if not layout.batch_normalize:
        return LayerWeights(biases, kernel)
    scales, mean, variance = np.split(tail if layout.norm_last else head[layout.biases:], 3)
    _check_variances(variance, path, where)
    return LayerWeights(biases, kernel, scales, mean, variance, layout.norm_last)


def _check_variances(variance, path, where):
    """Darknet's rolling variances are never negative: if the floats read as variances are, the file's
    floats are misaligned with the cfg's layers (a :class:`WeightsMismatchError`)."""
    if not np.all(np.isfinite(variance) & (variance >= 0)):
        raise WeightsMismatchError(
            path, f"the floats do not fit the cfg: {where} reads negative or non-finite batch-norm "
                  f"variances, so the file was written for a different cfg")


def write_weights(path, header, convs):
    """Write a Darknet weights file: ``header`` then each :class:`LayerWeights`' arrays as float32
    (atomically: a temporary file renamed when complete)."""
    with atomic_write(path) as file:
        file.write(header.to_bytes())
        for conv in convs:
            for array in conv.arrays():
                np.ascontiguousarray(array, FLOAT).tofile(file)
