"""Reference data shipped with the package (the course's YOLOv2 layer table)."""
