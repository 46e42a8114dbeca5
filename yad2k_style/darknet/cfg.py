"""Darknet's ``.cfg`` format ↔ typed specs (:mod:`yad2k_style.netspec`).

Read as Darknet's ``read_cfg`` reads it: ``[section]`` headers (repeated names allowed), ``key=value``
lines, whitespace anywhere ignored, lines starting with ``#`` or ``;`` are comments, list values are
comma-separated. A key given twice keeps its first value, as Darknet's ``option_find`` does (with a
warning naming the line ignored). Defaults are Darknet's. Keys that only matter for training
(augmentation, loss scales, ``jitter``, ``random`` …) are read and ignored, as Darknet ignores them at
test time. What this package cannot compute (an unknown section or key, ``[reorg] reverse=1`` …) is an
error naming the file, line and section.
"""

import warnings
from dataclasses import dataclass
from pathlib import Path

from yad2k_style.assets import assets_root
from yad2k_style.darknet.tree import read_tree
from yad2k_style.errors import FormatError, YadError, YadWarning
from yad2k_style.files import read_text
from yad2k_style.netspec import (
    ACTIVATIONS,
    AvgPool,
    Connected,
    Convolutional,
    Cost,
    Crop,
    Detection,
    Dropout,
    Local,
    MaxPool,
    Region,
    Reorg,
    Route,
    Shortcut,
    Softmax,
    Upsample,
    Yolo,
    resolve_index,
)

#: Section names as written → the canonical name (Darknet's aliases included).
#: Most layers a cfg may have: a network of thousands would take minutes to build, and no YOLOv2-family
#: network comes near (YOLOv2: 31 layers).
MAX_LAYERS = 1000
SECTION_NAMES = {
    "net": "net", "network": "net",
    "convolutional": "convolutional", "conv": "convolutional",
    "maxpool": "maxpool", "max": "maxpool",
    "avgpool": "avgpool", "avg": "avgpool",
    "softmax": "softmax", "soft": "softmax",
    "route": "route", "reorg": "reorg", "reorg3d": "reorg3d", "region": "region",
    "shortcut": "shortcut", "dropout": "dropout", "connected": "connected", "conn": "connected",
    "local": "local", "crop": "crop", "cost": "cost", "upsample": "upsample", "yolo": "yolo",
    "detection": "detection",
}

#: Keys that only matter for training, by section: read and ignored. (``map`` maps a dataset's classes
#: into YOLO9000's tree for validation; ``[net]``'s keys other than its size are all training's.)
TRAINING_KEYS = {
    "region": ("bias_match", "jitter", "rescore", "object_scale", "noobject_scale", "class_scale",
               "coord_scale", "absolute", "thresh", "random", "max", "map"),
    "yolo": ("jitter", "ignore_thresh", "truth_thresh", "random", "max", "map"),
    "detection": ("jitter", "rescore", "object_scale", "noobject_scale", "class_scale", "coord_scale",
                  "random", "forced", "max", "reorg"),
    "crop": ("flip", "angle", "saturation", "exposure", "shift"),
    "cost": ("type", "scale", "ratio", "noobject_scale", "thresh"),
    "softmax": ("noloss",),
}


@dataclass(frozen=True)
class Net:
    """The ``[net]`` section: input size in pixels and channels."""

    width: int
    height: int
    channels: int

    @property
    def input_shape(self):
        """Channels-last ``(height, width, channels)``."""
        return (self.height, self.width, self.channels)


@dataclass(frozen=True)
class DarknetCfg:
    """A parsed cfg: ``layers`` holds one spec per section after ``[net]`` (Darknet's layer indices);
    ``lines`` and ``sections`` give each layer's header line number and text, for messages."""

    path: str
    net: Net
    layers: tuple
    lines: tuple
    sections: tuple

    def layer_sizes(self, input_size=None):
        """Each layer's output ``(height, width)``: :meth:`layer_shapes` without the channels."""
        return [shape[:2] for shape in self.layer_shapes(input_size)]

    def layer_shapes(self, input_size=None):
        """Each layer's output ``(height, width, channels)`` in Darknet's arithmetic for an input of
        ``input_size`` (height, width; default the ``[net]``'s) → list; a flat output (``[connected]``,
        ``[softmax]``, a reorg with ``extra``) is ``(1, 1, length)``. A :class:`YadError` names the
        layer where the shapes do not fit: a reorg whose input is not a multiple of its stride, a
        route joining maps of different sizes, a map shrunk to nothing, a head whose input does not
        have the channels its section asks for."""
        shape = (*(input_size or (self.net.height, self.net.width)), self.net.channels)
        shapes = []
        for index, spec in enumerate(self.layers):
            shape = self._output_shape(index, spec, shape, shapes)
            if shape[0] < 1 or shape[1] < 1:
                raise YadError(f"{self.where(index)}: the {self.net.width}×{self.net.height} input is too "
                               f"small for the network")
            shapes.append(shape)
        return shapes

    def _output_shape(self, index, spec, shape, shapes):
        height, width, channels = shape
        flat = height * width * channels
        if isinstance(spec, Convolutional | MaxPool):
            padding = 2 * spec.padding if isinstance(spec, Convolutional) else spec.total_padding
            if isinstance(spec, Convolutional) and channels % spec.groups:
                raise YadError(f"{self.where(index)}: its {channels} input channels do not split into "
                               f"groups={spec.groups}")
            height, width = ((n + padding - spec.size) // spec.stride + 1 for n in (height, width))
            return height, width, spec.filters if isinstance(spec, Convolutional) else channels
        if isinstance(spec, Local):
            return (*((n + 2 * spec.padding - spec.size) // spec.stride + 1 for n in (height, width)),
                    spec.filters)
        if isinstance(spec, Reorg):
            if spec.extra:
                return 1, 1, flat + spec.extra
            if height % spec.stride or width % spec.stride:
                raise YadError(f"{self.where(index)}: its input is {height}×{width}, not a multiple of "
                               f"its stride {spec.stride}; give [net] a width and height that are "
                               f"multiples of the network's stride")
            return height // spec.stride, width // spec.stride, channels * spec.stride ** 2
        if isinstance(spec, Route):
            sources = [shapes[resolve_index(i, index)] for i in spec.layers]
            joined = sorted({source[:2] for source in sources})
            if len(joined) > 1:
                shown = " and ".join(f"{h}×{w}" for h, w in joined)
                raise YadError(f"{self.where(index)} joins maps of {shown} pixels; give [net] a width "
                               f"and height that are multiples of the network's stride")
            return (*joined[0], sum(source[2] for source in sources))
        if isinstance(spec, Shortcut):
            source = shapes[resolve_index(spec.source, index)]
            if source[1] // width != source[0] // height or width // source[1] != height // source[0]:
                raise YadError(f"{self.where(index)} joins a {source[0]}×{source[1]} map to a "
                               f"{height}×{width} one: Darknet needs the same ratio across and down")
            return shape
        if isinstance(spec, Upsample):
            return height * spec.stride, width * spec.stride, channels
        if isinstance(spec, Crop):
            if spec.height > height or spec.width > width:
                raise YadError(f"{self.where(index)}: a {spec.height}×{spec.width} crop of a "
                               f"{height}×{width} input")
            return spec.height, spec.width, channels
        if isinstance(spec, AvgPool):
            return 1, 1, channels
        if isinstance(spec, Connected):
            return 1, 1, spec.outputs
        if isinstance(spec, Softmax):
            if flat % spec.groups or (spec.tree is not None and spec.tree.size != flat):
                wanted = spec.tree.size if spec.tree is not None else f"a multiple of groups={spec.groups}"
                raise YadError(f"{self.where(index)}: {flat} inputs, expected {wanted}")
            return 1, 1, flat
        self._check_head(index, spec, channels if height * width > 1 or isinstance(spec, Yolo | Region)
                         else flat)
        return shape

    def _check_head(self, index, spec, inputs):
        """The input of a [region], [yolo] or [detection] has the channels its keys describe."""
        if isinstance(spec, Region):
            wanted = spec.num * (spec.coords + 1 + spec.classes)
            how = f"num × (coords + 1 + classes) = {spec.num} × ({spec.coords} + 1 + {spec.classes})"
        elif isinstance(spec, Yolo):
            wanted = len(spec.mask) * (4 + 1 + spec.classes)
            how = f"len(mask) × (4 + 1 + classes) = {len(spec.mask)} × (5 + {spec.classes})"
        elif isinstance(spec, Detection):
            wanted, how = spec.inputs, (f"side² × ((1 + coords) × num + classes) = {spec.side}² × ((1 + "
                                        f"{spec.coords}) × {spec.num} + {spec.classes})")
        else:
            return
        if inputs != wanted:
            raise YadError(f"{self.where(index)}: its input has {inputs} channels, but {how} = {wanted}")

    def where(self, index):
        """``"layer 3 ([convolutional] at yolov2.cfg:40)"``."""
        return f"layer {index} ({self.sections[index]} at {self.path}:{self.lines[index]})"

    @property
    def region(self):
        """The last :class:`Region` spec, or None for a network without one."""
        regions = [spec for spec in self.layers if isinstance(spec, Region)]
        return regions[-1] if regions else None

    @property
    def heads(self):
        """The detection heads (:class:`Region`, :class:`Yolo`, :class:`Detection` specs), in order."""
        return [spec for spec in self.layers if isinstance(spec, Region | Yolo | Detection)]


@dataclass
class _Section:
    header: str  # as written, e.g. "[conv]"
    line: int
    options: dict  # key → (value, line)


class _Options:
    """Typed access to one section's options; remembers which keys were read."""

    def __init__(self, section, path, index=None):
        self.section = section
        self.path = path
        self.index = index  # Darknet layer index (None for [net])
        self.used = set()

    def error(self, problem, key=None):
        line = self.section.options[key][1] if key in self.section.options else self.section.line
        return FormatError(self.path, f"{self.section.header}: {problem}", line=line)

    def text(self, key, default=None):
        self.used.add(key)
        if key in self.section.options:
            return self.section.options[key][0]
        if default is None:
            raise self.error(f"missing key {key!r}")
        return default

    def _convert(self, key, default, kind, convert):
        text = self.text(key, None if default is None else str(default))
        try:
            return convert(text)
        except ValueError:
            raise self.error(f"{key}={text} is not {kind}", key) from None

    def integer(self, key, default=None):
        return self._convert(key, default, "an integer", int)

    def number(self, key, default=None):
        return self._convert(key, default, "a number", float)

    def integers(self, key):
        return self._convert(key, None, "a list of integers", lambda t: tuple(int(v) for v in t.split(",")))

    def layer_references(self, key):
        """A list of Darknet layer indices (negative: relative), each an earlier layer."""
        references = self.integers(key)
        for reference in references:
            try:
                resolve_index(reference, self.index)
            except ValueError as exc:
                raise self.error(str(exc), key) from None
        return references

    def numbers(self, key):
        return self._convert(key, None, "a list of numbers", lambda t: tuple(float(v) for v in t.split(",")))

    def flag(self, key, default=0):
        value = self.integer(key, default)
        if value not in (0, 1):
            raise self.error(f"{key}={value}: expected 0 or 1", key)
        return bool(value)

    def only(self, key, allowed, default):
        """Read ``key`` and require it to equal ``allowed`` (what this package computes)."""
        value = self.integer(key, default)
        if value != allowed:
            raise self.error(f"{key}={value} is not supported (only {allowed})", key)

    def ignore(self, *keys):
        self.used.update(keys)

    def activation(self, default):
        activation = self.text("activation", default)
        if activation not in ACTIVATIONS:
            raise self.error(f"activation {activation!r} is not one of Darknet's ({', '.join(ACTIVATIONS)})",
                             "activation")
        return activation

    def tree(self):
        """The WordTree that ``tree=`` names, or None (see :func:`find_tree`)."""
        if "tree" not in self.section.options:
            return None
        text = self.text("tree")
        found = find_tree(text, self.path)
        if found is None:
            raise self.error(f"tree file {text!r} not found (looked beside the cfg, in its parent folder "
                             f"and among the packaged trees)", "tree")
        return read_tree(found, source=text)

    def check_all_used(self):
        for key in self.section.options:
            if key not in self.used:
                raise self.error(f"unsupported key {key!r}", key)


def parse_cfg(path):
    """Parse a Darknet ``.cfg`` file → :class:`DarknetCfg`."""
    return parse_cfg_text(read_text(path, binary_hint="is it a .weights file? are the cfg and weights "
                                                      "swapped?"), path)


def parse_cfg_text(text, path):
    """Parse cfg ``text``; ``path`` names it in errors."""
    sections = _read_sections(text, path)
    if not sections or SECTION_NAMES[sections[0].header[1:-1]] != "net":
        raise FormatError(path, "the first section must be [net] or [network]",
                          line=sections[0].line if sections else None)
    if len(sections) - 1 > MAX_LAYERS:
        raise FormatError(path, f"{len(sections) - 1:,} layers; this reader takes at most {MAX_LAYERS:,} "
                                f"(YOLOv2 has 31, Darknet-53 107)")
    net = _parse_net(_Options(sections[0], path))
    layers = []
    for index, section in enumerate(sections[1:]):
        options = _Options(section, path, index)
        name = SECTION_NAMES[section.header[1:-1]]
        if name == "net":
            raise options.error("a second [net] section")
        spec = _PARSERS[name](options)
        options.check_all_used()
        layers.append(spec)
    return DarknetCfg(str(path), net, tuple(layers), tuple(s.line for s in sections[1:]),
                      tuple(s.header for s in sections[1:]))


def _read_sections(text, path):
    sections, repeated = [], []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = "".join(raw.split())
        for mark in "#;":
            line = line.split(mark, 1)[0]
        if not line:
            continue
        if line.startswith("["):
            if not line.endswith("]"):
                raise FormatError(path, f"malformed section header {raw.strip()!r}", line=number)
            if line[1:-1] not in SECTION_NAMES:
                raise FormatError(path, f"unsupported section {line}", line=number)
            sections.append(_Section(line, number, {}))
            continue
        key, equals, value = line.partition("=")
        if not sections:
            raise FormatError(path, f"{line!r} before the first [section]", line=number)
        if not equals or not key or not value:
            raise FormatError(path, f"{sections[-1].header}: expected key=value, found {raw.strip()!r}",
                              line=number)
        if key in sections[-1].options:
            repeated.append(f"{number} ({sections[-1].header} {key})")
            continue
        sections[-1].options[key] = (value, number)
    if repeated:
        warnings.warn(f"{path}: keys given again; Darknet keeps each key's first value, so line"
                      f"{'s' if len(repeated) > 1 else ''} {', '.join(repeated)} ignored", YadWarning,
                      stacklevel=4)
    return sections


def _parse_net(options):
    net = Net(options.integer("width"), options.integer("height"), options.integer("channels"))
    for key in ("width", "height", "channels"):
        if getattr(net, key) <= 0:
            raise options.error(f"{key} must be positive", key)
    options.ignore(*options.section.options)  # the rest are training hyperparameters
    return net


def _positive(options, key, default=None):
    value = options.integer(key, default)
    if value <= 0:
        raise options.error(f"{key}={value}: must be positive", key)
    return value


def _convolutional(options):
    filters = _positive(options, "filters")
    size = _positive(options, "size", 1)
    stride = _positive(options, "stride", 1)
    padding = options.integer("padding", 0)
    if options.flag("pad"):
        padding = size // 2
    groups = _positive(options, "groups", 1)
    if filters % groups:
        raise options.error(f"filters={filters} do not split into groups={groups}", "groups")
    options.only("dilation", 1, 1)
    return Convolutional(filters, size, stride, padding, options.flag("batch_normalize"),
                         options.activation("logistic"), groups)


def _connected(options):
    return Connected(_positive(options, "output", 1), options.flag("batch_normalize"),
                     options.activation("logistic"))


def _local(options):
    spec = Local(_positive(options, "filters", 1), _positive(options, "size", 1),
                 _positive(options, "stride", 1), options.flag("pad"), options.activation("logistic"))
    if spec.pad and spec.size != 3:
        raise options.error(f"pad=1 with size={spec.size}: Darknet pads one pixel but sizes its output as "
                            f"if it padded {spec.size // 2}; only size=3 computes a defined result", "pad")
    return spec


def _crop(options):
    spec = Crop(_positive(options, "crop_height", 1), _positive(options, "crop_width", 1),
                options.flag("noadjust"))
    options.ignore(*TRAINING_KEYS["crop"])
    return spec


def _cost(options):
    options.ignore(*TRAINING_KEYS["cost"])
    return Cost()


def _upsample(options):
    return Upsample(_positive(options, "stride", 2), options.number("scale", 1))


def _maxpool(options):
    stride = _positive(options, "stride", 1)
    size = _positive(options, "size", stride)
    padding = options.integer("padding", size - 1)
    return MaxPool(size, stride, None if padding == size - 1 else padding)


def _avgpool(options):
    return AvgPool()


def _softmax(options):
    groups = _positive(options, "groups", 1)
    temperature = options.number("temperature", 1)
    if temperature <= 0:
        raise options.error(f"temperature={temperature:g}: must be positive", "temperature")
    tree = options.tree()
    if tree is not None and groups != 1:
        raise options.error("groups and tree together: Darknet's tree softmax ignores groups", "groups")
    options.ignore(*TRAINING_KEYS["softmax"])
    return Softmax(groups, temperature, tree)


def _route(options):
    return Route(options.layer_references("layers"))


def _reorg(options):
    options.only("reverse", 0, 0)
    options.only("flatten", 0, 0)
    extra = options.integer("extra", 0)
    if extra < 0:
        raise options.error(f"extra={extra}: must not be negative", "extra")
    return Reorg(_positive(options, "stride", 1), order="darknet", extra=extra)


def _reorg3d(options):
    return Reorg(_positive(options, "stride", 1), order="space_to_depth")


def _anchors(options, count):
    anchors = options.numbers("anchors")
    if len(anchors) != 2 * count:
        raise options.error(f"{len(anchors)} anchor values for num={count}; expected {2 * count}", "anchors")
    return anchors


def _region(options):
    num = _positive(options, "num", 1)
    classes = _positive(options, "classes", 20)
    tree = options.tree()
    if tree is not None and tree.size != classes:
        raise options.error(f"classes={classes}, but the tree {tree.source} has {tree.size} nodes", "tree")
    spec = Region(_anchors(options, num), classes, num, _positive(options, "coords", 4),
                  options.flag("softmax"), tree)
    options.ignore(*TRAINING_KEYS["region"])
    return spec


def _yolo(options):
    num = _positive(options, "num", 1)
    anchors = _anchors(options, num)
    mask = options.integers("mask") if "mask" in options.section.options else tuple(range(num))
    for index in mask:
        if not 0 <= index < num:
            raise options.error(f"mask index {index} is outside the {num} anchors (0 to {num - 1})", "mask")
    spec = Yolo(mask, anchors, _positive(options, "classes", 20))
    options.ignore(*TRAINING_KEYS["yolo"])
    return spec


def _detection(options):
    spec = Detection(_positive(options, "classes", 1), _positive(options, "coords", 1),
                     _positive(options, "num", 1), _positive(options, "side", 7), options.flag("softmax"),
                     options.flag("sqrt"))
    options.ignore(*TRAINING_KEYS["detection"])
    return spec


def _shortcut(options):
    (source,) = options.layer_references("from")
    return Shortcut(source, options.activation("linear"), options.number("alpha", 1),
                    options.number("beta", 1))


def _dropout(options):
    return Dropout(options.number("probability", 0.5))


_PARSERS = {
    "convolutional": _convolutional, "maxpool": _maxpool, "avgpool": _avgpool, "softmax": _softmax,
    "route": _route, "reorg": _reorg, "reorg3d": _reorg3d, "region": _region, "shortcut": _shortcut,
    "dropout": _dropout, "connected": _connected, "local": _local, "crop": _crop, "cost": _cost,
    "upsample": _upsample, "yolo": _yolo, "detection": _detection,
}


def find_tree(text, cfg_path):
    """The ``.tree`` file a cfg's ``tree=text`` names, as Darknet run from its own folder would find
    it, or None: ``text`` itself (absolute, or from the working directory), beside the cfg, from the
    cfg's parent folder (Darknet's ``cfg/`` + ``data/`` layout), its file name beside the cfg (a model
    directory's copy), or a packaged tree of that name (``9k.tree``)."""
    cfg_dir = Path(cfg_path).parent
    name = Path(text).name
    for candidate in (Path(text), cfg_dir / text, cfg_dir.parent / text, cfg_dir / name,
                      assets_root() / "darknet" / "data" / name):
        if candidate.is_file():
            return candidate
    return None


def format_cfg(net, layers):
    """Darknet cfg text for ``net`` and a spec list; :func:`parse_cfg_text` reads it back equal."""
    lines = ["[net]", f"width={net.width}", f"height={net.height}", f"channels={net.channels}"]
    for spec in layers:
        lines += [""] + _format_spec(spec)
    return "\n".join(lines) + "\n"


def _format_spec(spec):
    if isinstance(spec, Convolutional):
        lines = ["[convolutional]"]
        if spec.batch_normalize:
            lines.append("batch_normalize=1")
        lines += [f"filters={spec.filters}", f"size={spec.size}", f"stride={spec.stride}"]
        same = spec.padding and spec.padding == spec.size // 2
        lines.append("pad=1" if same else f"padding={spec.padding}")
        if spec.groups != 1:
            lines.append(f"groups={spec.groups}")
        return lines + [f"activation={spec.activation}"]
    if isinstance(spec, Connected):
        return ["[connected]", f"output={spec.outputs}", f"batch_normalize={int(spec.batch_normalize)}",
                f"activation={spec.activation}"]
    if isinstance(spec, Local):
        return ["[local]", f"filters={spec.filters}", f"size={spec.size}", f"stride={spec.stride}",
                f"pad={int(spec.pad)}", f"activation={spec.activation}"]
    if isinstance(spec, Crop):
        return ["[crop]", f"crop_height={spec.height}", f"crop_width={spec.width}",
                f"noadjust={int(spec.noadjust)}"]
    if isinstance(spec, Cost):
        return ["[cost]"]
    if isinstance(spec, Upsample):
        return ["[upsample]", f"stride={spec.stride}", f"scale={spec.scale!r}"]
    if isinstance(spec, Yolo):
        return ["[yolo]", "mask=" + ",".join(str(i) for i in spec.mask),
                "anchors=" + ",".join(repr(a) for a in spec.anchors), f"classes={spec.classes}",
                f"num={len(spec.anchors) // 2}"]
    if isinstance(spec, Detection):
        return ["[detection]", f"classes={spec.classes}", f"coords={spec.coords}", f"num={spec.num}",
                f"side={spec.side}", f"softmax={int(spec.softmax)}", f"sqrt={int(spec.sqrt)}"]
    if isinstance(spec, MaxPool):
        lines = ["[maxpool]", f"size={spec.size}", f"stride={spec.stride}"]
        return lines if spec.padding is None else lines + [f"padding={spec.padding}"]
    if isinstance(spec, Route):
        return ["[route]", "layers=" + ",".join(str(i) for i in spec.layers)]
    if isinstance(spec, Reorg):
        lines = ["[reorg]" if spec.order == "darknet" else "[reorg3d]", f"stride={spec.stride}"]
        return lines + ([f"extra={spec.extra}"] if spec.extra else [])
    if isinstance(spec, Region):
        lines = ["[region]", "anchors=" + ",".join(repr(a) for a in spec.anchors),
                 f"classes={spec.classes}", f"coords={spec.coords}", f"num={spec.num}",
                 f"softmax={int(spec.softmax)}"]
        return lines + ([f"tree={spec.tree.source}"] if spec.tree is not None else [])
    if isinstance(spec, Shortcut):
        lines = ["[shortcut]", f"from={spec.source}", f"activation={spec.activation}"]
        return lines + [f"{key}={value!r}" for key, value in (("alpha", spec.alpha), ("beta", spec.beta))
                        if value != 1.0]
    if isinstance(spec, Dropout):
        return ["[dropout]", f"probability={spec.probability!r}"]
    if isinstance(spec, AvgPool):
        return ["[avgpool]"]
    if isinstance(spec, Softmax):
        lines = ["[softmax]", f"groups={spec.groups}", f"temperature={spec.temperature!r}"]
        return lines + ([f"tree={spec.tree.source}"] if spec.tree is not None else [])
    raise TypeError(f"no Darknet section for spec {spec!r}")
