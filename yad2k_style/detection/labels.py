"""Labelled detection datasets: YOLO txt, Pascal VOC XML and COCO JSON into one representation.

Every reader returns a :class:`LabelledDataset` whose boxes are pixel corners ``(x_min, y_min, x_max,
y_max)`` in the image's own pixels (x along the width, origin at the top-left corner).

Folder layouts (``read_dataset`` recognises them):

- YOLO txt: ``DIR/images/NAME.jpg`` with ``DIR/labels/NAME.txt`` (lines ``class x y w h``, centre and
  size relative to the image) and ``DIR/classes.txt``;
- Pascal VOC: ``DIR/JPEGImages/NAME.jpg`` with ``DIR/Annotations/NAME.xml`` (1-based inclusive pixel
  corners) and optionally ``DIR/classes.txt`` to fix the class order (else the sorted names found);
- COCO: a ``.json`` file (``bbox = [x, y, width, height]`` in pixels) with the images in an
  ``images/`` folder beside it, or beside it directly.
"""

import json
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as DefusedElementTree

from yad2k_style.assets import read_classes, write_classes
from yad2k_style.boxes import convert_boxes
from yad2k_style.errors import FormatError
from yad2k_style.files import read_text, write_text_atomically
from yad2k_style.images import IMAGE_EXTENSIONS, image_size


@dataclass
class Sample:
    """One image: ``boxes`` float32 (N, 4) pixel corners, ``classes`` int32 (N,)."""

    image_path: Path
    width: int
    height: int
    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    classes: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.int32))


@dataclass
class LabelledDataset:
    samples: list
    class_names: list

    def box_sizes(self):
        """All boxes' ``(width, height)`` relative to their image → (N, 2)."""
        sizes = [(s.boxes[:, 2:4] - s.boxes[:, 0:2]) / (s.width, s.height) for s in self.samples]
        return np.concatenate(sizes or [np.zeros((0, 2))]).astype(np.float32)


def read_dataset(path):
    """Read a dataset in whichever of the three layouts ``path`` has."""
    path = Path(path)
    if path.is_file() and path.suffix == ".json":
        dataset = read_coco(path)
    elif (path / "Annotations").is_dir():
        dataset = read_voc(path)
    elif (path / "labels").is_dir():
        dataset = read_yolo(path)
    else:
        raise FormatError(path, "not a dataset: expected a COCO .json file, or a folder with "
                                "Annotations/ (VOC) or labels/ (YOLO txt)")
    if not dataset.samples:
        raise FormatError(path, "no labelled images in this dataset")
    return dataset


def _images(folder):
    if not folder.is_dir():
        raise FormatError(folder, "image folder not found")
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)


#: How far (pixels) a box may reach past its image's edge before it is an error (rounding, VOC's
#: 1-based corners): boxes are clipped to the image within it.
EDGE_TOLERANCE = 1.0


def checked_boxes(path, boxes, width, height, line=None):
    """Boxes float (N, 4) ``xyxy`` pixels of a ``width`` × ``height`` image, checked: finite, with
    positive width and height, inside the image (up to :data:`EDGE_TOLERANCE`, then clipped) → float32.
    A :class:`FormatError` naming ``path`` (and ``line``) otherwise."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    for box in boxes:
        shown = "(" + ", ".join(f"{v:g}" for v in box) + ")"
        if not np.isfinite(box).all():
            raise FormatError(path, f"box {shown} has a value that is not a finite number", line=line)
        if box[2] <= box[0] or box[3] <= box[1]:
            raise FormatError(path, f"box {shown} has no area (x_max ≤ x_min or y_max ≤ y_min)", line=line)
        if (box[0] < -EDGE_TOLERANCE or box[1] < -EDGE_TOLERANCE or box[2] > width + EDGE_TOLERANCE
                or box[3] > height + EDGE_TOLERANCE):
            raise FormatError(path, f"box {shown} lies outside the {width}×{height} image", line=line)
    return np.clip(boxes, 0, [width, height, width, height]).astype(np.float32)


def read_yolo(folder):
    """YOLO txt layout (see the module docstring)."""
    folder = Path(folder)
    class_names = read_classes(folder / "classes.txt")
    samples = []
    for image_path in _images(folder / "images"):
        height, width = image_size(image_path)
        label_path = folder / "labels" / f"{image_path.stem}.txt"
        text = read_text(label_path) if label_path.exists() else ""
        boxes, classes = parse_yolo_labels(text, label_path, len(class_names), (height, width))
        samples.append(Sample(image_path, width, height, boxes, classes))
    return LabelledDataset(samples, class_names)


def parse_yolo_labels(text, path, num_classes, image_size):
    """The lines ``class x y w h`` (centre and size relative to the image) of a YOLO label file ``path``
    whose image is ``image_size`` (height, width) → ``(boxes float32 (N, 4) xyxy pixels, classes int32
    (N,))``; blank lines are skipped; a :class:`FormatError` naming the file and line otherwise."""
    rows = [_yolo_row(path, number, line, num_classes)
            for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    values = np.array(rows, np.float64).reshape(-1, 5)
    boxes = convert_boxes(values[:, 1:], "rel_cxcywh", "xyxy", image_size)
    return boxes.astype(np.float32), values[:, 0].astype(np.int32)


def _yolo_row(path, number, line, num_classes):
    fields = line.split()
    if len(fields) != 5:
        raise FormatError(path, f"expected 'class x y w h', found {len(fields)} fields", line=number)
    try:
        label, values = int(fields[0]), [float(v) for v in fields[1:]]
    except ValueError:
        raise FormatError(path, f"not numbers: {line.strip()[:80]!r}", line=number) from None
    if not 0 <= label < num_classes:
        raise FormatError(path, f"class {label} outside 0..{num_classes - 1}", line=number)
    if not all(0 <= v <= 1 for v in values) or values[2] <= 0 or values[3] <= 0:
        raise FormatError(path, "box values must be relative (0..1) with positive size", line=number)
    return [label, *values]


def read_voc(folder):
    """Pascal VOC layout (see the module docstring)."""
    folder = Path(folder)
    annotations = sorted((folder / "Annotations").glob("*.xml"))
    parsed = [parse_voc(_read_bytes(path), path) for path in annotations]
    if (folder / "classes.txt").exists():
        class_names = read_classes(folder / "classes.txt")
    else:
        class_names = sorted({name for _, _, _, objects in parsed for name, _ in objects})
    index = {name: i for i, name in enumerate(class_names)}
    samples = []
    for path, (filename, width, height, objects) in zip(annotations, parsed, strict=True):
        unknown = [name for name, _ in objects if name not in index]
        if unknown:
            raise FormatError(path, f"class {unknown[0][:80]!r} is not in classes.txt")
        boxes = np.array([box for _, box in objects], np.float64).reshape(-1, 4)
        boxes[:, 0:2] -= 1  # 1-based inclusive → 0-based corners
        samples.append(Sample(folder / "JPEGImages" / filename, width, height,
                              checked_boxes(path, boxes, width, height),
                              np.array([index[name] for name, _ in objects], np.int32)))
    return LabelledDataset(samples, class_names)


def parse_voc(data, path):
    """A VOC annotation (XML bytes of file ``path``) → ``(filename, width, height, [(class name,
    [xmin, ymin, xmax, ymax] 1-based pixels)])``. Parsed by defusedxml: a document with a DTD or
    entities (an entity-expansion "billion laughs" attack, or external entities) is refused."""
    try:
        root = DefusedElementTree.fromstring(data)
        filename = root.findtext("filename")
        width, height = int(root.findtext("size/width")), int(root.findtext("size/height"))
        objects = []
        for obj in root.iter("object"):
            box = obj.find("bndbox")
            objects.append((obj.findtext("name").strip(),
                            [float(box.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax")]))
    except DefusedXmlException:
        raise FormatError(path, "refused: the XML declares a DTD or entities (as an entity-expansion "
                                "attack does); VOC annotations need neither") from None
    except ElementTree.ParseError as exc:
        raise FormatError(path, f"not valid XML ({exc})") from None
    except (TypeError, ValueError, AttributeError, OverflowError):
        raise FormatError(path, "missing or non-numeric filename, size or bndbox field") from None
    if not filename or not filename.strip() or Path(filename).name != filename:
        raise FormatError(path, "the filename field must name an image file (no folders)")
    if width <= 0 or height <= 0:
        raise FormatError(path, f"image size {width}×{height} must be positive")
    return filename, width, height, objects


def read_coco(json_path):
    """COCO detection JSON (see the module docstring); crowd annotations are skipped."""
    json_path = Path(json_path)
    image_dir = json_path.parent / "images"
    if not image_dir.is_dir():
        image_dir = json_path.parent
    return parse_coco(read_text(json_path), json_path, image_dir)


def parse_coco(text, path, image_dir):
    """COCO detection JSON ``text`` of file ``path`` (images in ``image_dir``) → :class:`LabelledDataset`,
    every field checked (a :class:`FormatError` names the file and the entry otherwise)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(path, f"not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise FormatError(path, "JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise FormatError(path, "a COCO file is a JSON object with images, annotations and categories")
    categories, images, annotations = (_coco_list(path, data, key) for key in ("categories", "images",
                                                                                 "annotations"))
    for k, category in enumerate(categories):
        _coco_fields(path, f"categories[{k}]", category, {"id": int, "name": str})
    categories = sorted(categories, key=lambda c: c["id"])
    class_index = {c["id"]: i for i, c in enumerate(categories)}
    if len(class_index) != len(categories):
        raise FormatError(path, "two categories share an id")
    by_image = {}
    for k, image in enumerate(images):
        _coco_fields(path, f"images[{k}]", image, {"id": int, "file_name": str, "width": int, "height": int})
        if image["width"] <= 0 or image["height"] <= 0 or Path(image["file_name"]).name != image["file_name"]:
            raise FormatError(path, f"images[{k}]: width and height must be positive and file_name a "
                                    f"file name")
        by_image[image["id"]] = []
    for k, ann in enumerate(annotations):
        where = f"annotations[{k}]"
        _coco_fields(path, where, ann, {"image_id": int, "category_id": int, "bbox": list})
        if ann["image_id"] not in by_image:
            raise FormatError(path, f"{where}: image_id {ann['image_id']} is not among the images")
        if ann["category_id"] not in class_index:
            raise FormatError(path, f"{where}: category_id {ann['category_id']} is not among the categories")
        bbox = ann["bbox"]
        if len(bbox) != 4 or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in bbox):
            raise FormatError(path, f"{where}: bbox must be 4 numbers [x, y, width, height]")
        if not ann.get("iscrowd", 0):
            by_image[ann["image_id"]].append(ann)
    samples = []
    for image in images:
        anns = by_image[image["id"]]
        xywh = np.array([a["bbox"] for a in anns], np.float64).reshape(-1, 4)
        boxes = checked_boxes(path, convert_boxes(xywh, "xywh", "xyxy"), image["width"], image["height"])
        samples.append(Sample(image_dir / image["file_name"], image["width"], image["height"], boxes,
                              np.array([class_index[a["category_id"]] for a in anns], np.int32)))
    return LabelledDataset(samples, [c["name"] for c in categories])


def _coco_list(path, data, key):
    if not isinstance(data.get(key), list):
        raise FormatError(path, f"missing COCO field '{key}' (a list)")
    return data[key]


def _coco_fields(path, where, entry, types):
    """Check that COCO ``entry`` is an object with each field of ``types`` of its type (ints not bools)."""
    if not isinstance(entry, dict):
        raise FormatError(path, f"{where} must be an object")
    for key, kind in types.items():
        value = entry.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise FormatError(path, f"{where}: missing or wrong '{key}' (expected {kind.__name__})")


def _read_bytes(path):
    try:
        return Path(path).read_bytes()
    except IsADirectoryError:
        raise FormatError(path, "is a directory") from None
    except PermissionError:
        raise FormatError(path, "permission denied") from None


def write_yolo(dataset, folder):
    """Write labels (and classes.txt) in the YOLO txt layout; images must already be in images/."""
    folder = Path(folder)
    (folder / "labels").mkdir(parents=True, exist_ok=True)
    write_classes(folder / "classes.txt", dataset.class_names)
    for s in dataset.samples:
        lines = []
        relative = convert_boxes(s.boxes.astype(np.float64), "xyxy", "rel_cxcywh", (s.height, s.width))
        for values, label in zip(relative, s.classes, strict=True):
            lines.append(f"{label} " + " ".join(f"{v:.8f}" for v in values) + "\n")
        write_text_atomically(folder / "labels" / f"{Path(s.image_path).stem}.txt", "".join(lines))


def write_voc(dataset, folder):
    """Write one VOC XML per image (and classes.txt); images must already be in JPEGImages/."""
    folder = Path(folder)
    (folder / "Annotations").mkdir(parents=True, exist_ok=True)
    write_classes(folder / "classes.txt", dataset.class_names)
    for s in dataset.samples:
        root = ElementTree.Element("annotation")
        ElementTree.SubElement(root, "filename").text = Path(s.image_path).name
        size = ElementTree.SubElement(root, "size")
        for key, value in (("width", s.width), ("height", s.height), ("depth", 3)):
            ElementTree.SubElement(size, key).text = str(value)
        for (x0, y0, x1, y1), label in zip(s.boxes.tolist(), s.classes, strict=True):
            obj = ElementTree.SubElement(root, "object")
            ElementTree.SubElement(obj, "name").text = dataset.class_names[label]
            box = ElementTree.SubElement(obj, "bndbox")
            for key, value in (("xmin", x0 + 1), ("ymin", y0 + 1), ("xmax", x1), ("ymax", y1)):
                ElementTree.SubElement(box, key).text = repr(float(value))
        write_text_atomically(folder / "Annotations" / f"{Path(s.image_path).stem}.xml",
                    ElementTree.tostring(root, encoding="unicode"))


def coco_dict(dataset):
    """The dataset as a COCO detection dictionary (image ids from 1, category ids from 1)."""
    images, annotations = [], []
    for image_id, s in enumerate(dataset.samples, start=1):
        images.append({"id": image_id, "file_name": Path(s.image_path).name,
                       "width": s.width, "height": s.height})
        xywh = convert_boxes(s.boxes.astype(np.float64), "xyxy", "xywh").tolist()
        for (x, y, w, h), label in zip(xywh, s.classes.tolist(), strict=True):
            annotations.append({"id": len(annotations) + 1, "image_id": image_id,
                                "category_id": label + 1, "bbox": [x, y, w, h], "area": w * h, "iscrowd": 0})
    categories = [{"id": i + 1, "name": name} for i, name in enumerate(dataset.class_names)]
    return {"images": images, "annotations": annotations, "categories": categories}


def write_coco(dataset, json_path):
    """Write the dataset as a COCO JSON file."""
    write_text_atomically(Path(json_path), json.dumps(coco_dict(dataset)))
