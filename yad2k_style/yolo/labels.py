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


def read_yolo(folder):
    """YOLO txt layout (see the module docstring)."""
    folder = Path(folder)
    class_names = read_classes(folder / "classes.txt")
    samples = []
    for image_path in _images(folder / "images"):
        height, width = image_size(image_path)
        label_path = folder / "labels" / f"{image_path.stem}.txt"
        rows = []
        if label_path.exists():
            for number, line in enumerate(read_text(label_path).splitlines(), start=1):
                if line.strip():
                    rows.append(_yolo_row(label_path, number, line, len(class_names)))
        values = np.array(rows, np.float64).reshape(-1, 5)
        boxes = convert_boxes(values[:, 1:], "rel_cxcywh", "xyxy", (height, width))
        samples.append(Sample(image_path, width, height, boxes.astype(np.float32),
                              values[:, 0].astype(np.int32)))
    return LabelledDataset(samples, class_names)


def _yolo_row(path, number, line, num_classes):
    fields = line.split()
    if len(fields) != 5:
        raise FormatError(path, f"expected 'class x y w h', found {len(fields)} fields", line=number)
    try:
        label, values = int(fields[0]), [float(v) for v in fields[1:]]
    except ValueError:
        raise FormatError(path, f"not numbers: {line.strip()!r}", line=number) from None
    if not 0 <= label < num_classes:
        raise FormatError(path, f"class {label} outside 0..{num_classes - 1}", line=number)
    if not all(0 <= v <= 1 for v in values) or values[2] <= 0 or values[3] <= 0:
        raise FormatError(path, "box values must be relative (0..1) with positive size", line=number)
    return [label, *values]


def read_voc(folder):
    """Pascal VOC layout (see the module docstring)."""
    folder = Path(folder)
    annotations = sorted((folder / "Annotations").glob("*.xml"))
    parsed = [_parse_voc(path) for path in annotations]
    if (folder / "classes.txt").exists():
        class_names = read_classes(folder / "classes.txt")
    else:
        class_names = sorted({name for _, _, _, objects in parsed for name, _ in objects})
    index = {name: i for i, name in enumerate(class_names)}
    samples = []
    for path, (filename, width, height, objects) in zip(annotations, parsed, strict=True):
        unknown = [name for name, _ in objects if name not in index]
        if unknown:
            raise FormatError(path, f"class {unknown[0]!r} is not in classes.txt")
        boxes = np.array([box for _, box in objects], np.float32).reshape(-1, 4)
        boxes[:, 0:2] -= 1  # 1-based inclusive → 0-based corners
        samples.append(Sample(folder / "JPEGImages" / filename, width, height, boxes,
                              np.array([index[name] for name, _ in objects], np.int32)))
    return LabelledDataset(samples, class_names)


def _parse_voc(path):
    try:
        root = ElementTree.parse(path).getroot()
        filename = root.findtext("filename")
        width, height = int(root.findtext("size/width")), int(root.findtext("size/height"))
        objects = []
        for obj in root.iter("object"):
            box = obj.find("bndbox")
            objects.append((obj.findtext("name").strip(),
                            [float(box.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax")]))
    except ElementTree.ParseError as exc:
        raise FormatError(path, f"not valid XML ({exc})") from None
    except (TypeError, ValueError, AttributeError):
        raise FormatError(path, "missing or non-numeric filename, size or bndbox field") from None
    return filename, width, height, objects


def read_coco(json_path):
    """COCO detection JSON (see the module docstring); crowd annotations are skipped."""
    json_path = Path(json_path)
    try:
        data = json.loads(read_text(json_path))
        categories = sorted(data["categories"], key=lambda c: c["id"])
        images = data["images"]
        annotations = data["annotations"]
    except json.JSONDecodeError as exc:
        raise FormatError(json_path, f"not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except (KeyError, TypeError) as exc:
        raise FormatError(json_path, f"missing COCO field {exc}") from None
    image_dir = json_path.parent / "images"
    if not image_dir.is_dir():
        image_dir = json_path.parent
    class_index = {c["id"]: i for i, c in enumerate(categories)}
    by_image = {image["id"]: [] for image in images}
    for ann in annotations:
        if not ann.get("iscrowd", 0):
            by_image[ann["image_id"]].append(ann)
    samples = []
    for image in images:
        anns = by_image[image["id"]]
        xywh = np.array([a["bbox"] for a in anns], np.float32).reshape(-1, 4)
        samples.append(Sample(image_dir / image["file_name"], image["width"], image["height"],
                              convert_boxes(xywh, "xywh", "xyxy"),
                              np.array([class_index[a["category_id"]] for a in anns], np.int32)))
    return LabelledDataset(samples, [c["name"] for c in categories])


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
