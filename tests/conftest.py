import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def yolov2_608():
    """The course's 608×608 YOLOv2 (built once per test session: ~3 s, 200 MB)."""
    from yad2k_style.yolo import yolo_v2

    return yolo_v2()
