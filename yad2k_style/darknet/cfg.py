"""Darknet's ``.cfg`` format ↔ typed specs (:mod:`yad2k_style.netspec`).

Read as Darknet's ``read_cfg`` reads it: ``[section]`` headers (repeated names allowed), ``key=value``
lines, whitespace anywhere ignored, lines starting with ``#`` or ``;`` are comments, list values are
comma-separated. Defaults are Darknet's. What this package cannot compute (an unknown section or key,
``groups`` ≠ 1, an activation other than leaky/linear …) is an error naming the file, line and section.
"""

from dataclasses import dataclass

from yad2k_style.errors import FormatError, YadError
from yad2k_style.files import read_text
from yad2k_style.netspec import (
    ACTIVATIONS,
    AvgPool,
    Convolutional,
    Dropout,
    MaxPool,
    Region,
    Reorg,
    Route,
    Shortcut,
    Softmax,
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
    "shortcut": "shortcut", "dropout": "dropout",
}

#: [region] keys that only matter for training; read and ignored.
REGION_TRAINING_KEYS = ("bias_match", "jitter", "rescore", "object_scale", "noobject_scale",
                        "class_scale", "coord_scale", "absolute", "thresh", "random", "max")


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
        """Each layer's output ``(height, width)`` in Darknet's arithmetic for an input of ``input_size``
        (height, width; default the ``[net]``'s) → list; a :class:`YadError` naming the layer where the
        sizes do not fit: a reorg whose input is not a multiple of its stride, a route or shortcut
        joining maps of different sizes, a map shrunk to nothing (the input size is not a multiple of
        the network's stride, or too small)."""
        height, width = input_size or (self.net.height, self.net.width)
        sizes = []
        for index, spec in enumerate(self.layers):
            if isinstance(spec, Convolutional | MaxPool):
                padding = 2 * spec.padding if isinstance(spec, Convolutional) else spec.total_padding
                height, width = ((n + padding - spec.size) // spec.stride + 1 for n in (height, width))
            elif isinstance(spec, Reorg):
                if height % spec.stride or width % spec.stride:
                    raise YadError(f"{self.where(index)}: its input is {height}×{width}, not a multiple of "
                                   f"its stride {spec.stride}; give [net] a width and height that are "
                                   f"multiples of the network's stride")
                height, width = height // spec.stride, width // spec.stride
            elif isinstance(spec, Route | Shortcut):
                sources = spec.layers if isinstance(spec, Route) else (spec.source,)
                joined = sorted({sizes[resolve_index(i, index)] for i in sources})
                if len(joined) > 1 or (isinstance(spec, Shortcut) and joined[0] != (height, width)):
                    seen = {*joined, (height, width)} if isinstance(spec, Shortcut) else set(joined)
                    shown = " and ".join(f"{h}×{w}" for h, w in sorted(seen))
                    raise YadError(f"{self.where(index)} joins maps of {shown} pixels; give [net] a width "
                                   f"and height that are multiples of the network's stride")
                height, width = joined[0]
            elif isinstance(spec, AvgPool | Softmax):
                height, width = 1, 1
            if height < 1 or width < 1:
                raise YadError(f"{self.where(index)}: the {self.net.width}×{self.net.height} input is too "
                               f"small for the network")
            sizes.append((height, width))
        return sizes

    def where(self, index):
        """``"layer 3 ([convolutional] at yolov2.cfg:40)"``."""
        return f"layer {index} ({self.sections[index]} at {self.path}:{self.lines[index]})"

    @property
    def region(self):
        """The last :class:`Region` spec, or None for a network without one."""
        regions = [spec for spec in self.layers if isinstance(spec, Region)]
        return regions[-1] if regions else None


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
    sections = []
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
            raise FormatError(path, f"{sections[-1].header}: key {key!r} given twice", line=number)
        sections[-1].options[key] = (value, number)
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
    options.only("groups", 1, 1)
    options.only("dilation", 1, 1)
    activation = options.text("activation", "logistic")
    if activation not in ACTIVATIONS:
        raise options.error(f"activation {activation!r} is not supported (only {', '.join(ACTIVATIONS)})",
                            "activation")
    return Convolutional(filters, size, stride, padding, options.flag("batch_normalize"), activation)


def _maxpool(options):
    stride = _positive(options, "stride", 1)
    size = _positive(options, "size", stride)
    padding = options.integer("padding", size - 1)
    return MaxPool(size, stride, None if padding == size - 1 else padding)


def _avgpool(options):
    return AvgPool()


def _softmax(options):
    options.only("groups", 1, 1)
    return Softmax()


def _route(options):
    return Route(options.layer_references("layers"))


def _reorg(options):
    options.only("reverse", 0, 0)
    options.only("flatten", 0, 0)
    options.only("extra", 0, 0)
    return Reorg(_positive(options, "stride", 1), order="darknet")


def _reorg3d(options):
    return Reorg(_positive(options, "stride", 1), order="space_to_depth")


def _region(options):
    num = _positive(options, "num", 1)
    anchors = options.numbers("anchors")
    if len(anchors) != 2 * num:
        raise options.error(f"{len(anchors)} anchor values for num={num}; expected {2 * num}", "anchors")
    spec = Region(anchors, _positive(options, "classes", 20), num, _positive(options, "coords", 4),
                  options.flag("softmax"))
    options.ignore(*REGION_TRAINING_KEYS)
    return spec


def _shortcut(options):
    if options.text("activation", "linear") != "linear":
        raise options.error("only activation=linear is supported", "activation")
    (source,) = options.layer_references("from")
    return Shortcut(source)


def _dropout(options):
    return Dropout(options.number("probability", 0.5))


_PARSERS = {
    "convolutional": _convolutional, "maxpool": _maxpool, "avgpool": _avgpool, "softmax": _softmax,
    "route": _route, "reorg": _reorg, "reorg3d": _reorg3d, "region": _region, "shortcut": _shortcut,
    "dropout": _dropout,
}


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
        return lines + [f"activation={spec.activation}"]
    if isinstance(spec, MaxPool):
        lines = ["[maxpool]", f"size={spec.size}", f"stride={spec.stride}"]
        return lines if spec.padding is None else lines + [f"padding={spec.padding}"]
    if isinstance(spec, Route):
        return ["[route]", "layers=" + ",".join(str(i) for i in spec.layers)]
    if isinstance(spec, Reorg):
        return ["[reorg]" if spec.order == "darknet" else "[reorg3d]", f"stride={spec.stride}"]
    if isinstance(spec, Region):
        return ["[region]", "anchors=" + ",".join(repr(a) for a in spec.anchors),
                f"classes={spec.classes}", f"coords={spec.coords}", f"num={spec.num}",
                f"softmax={int(spec.softmax)}"]
    if isinstance(spec, Shortcut):
        return ["[shortcut]", f"from={spec.source}", "activation=linear"]
    if isinstance(spec, Dropout):
        return ["[dropout]", f"probability={spec.probability!r}"]
    if isinstance(spec, AvgPool):
        return ["[avgpool]"]
    if isinstance(spec, Softmax):
        return ["[softmax]"]
    raise TypeError(f"no Darknet section for spec {spec!r}")
