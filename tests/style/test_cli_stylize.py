"""``yad2k-style stylize`` end to end on images a package ships, and the mistakes users make."""

import numpy as np
import pytest
from matplotlib import cbook
from PIL import Image

from yad2k_style import cli

GRACE_HOPPER = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)  # 512 wide, 600 high


@pytest.fixture
def style(tmp_path):
    """A generated texture (stripes and checks), 128×96: another size than the content image."""
    y, x = np.mgrid[0:96, 0:128]
    checks = (x // 16 + y // 16) % 2 * 255
    texture = np.stack([127 + 127 * np.sin(x / 5), 127 + 127 * np.cos(y / 7), checks], -1)
    path = tmp_path / "texture.png"
    Image.fromarray(texture.astype(np.uint8)).save(path)
    return path


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_stylize_end_to_end(tmp_path, style, vgg16_weights, capsys):
    out = tmp_path / "hopper.png"
    code, stdout, stderr = run(capsys, "stylize", GRACE_HOPPER, style, "-o", out,
                               "--weights", vgg16_weights[1], "--size", 48, "--steps", 4, "--save-every", 2,
                               "--tv", 1e-6)
    assert (code, stderr) == (0, "")
    lines = stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:2]] == ["step 2/4", "step 4/4"]
    assert lines[-1] == f"wrote {out} (41×48 pixels); costs plotted in {tmp_path / 'hopper_costs.png'}"
    assert Image.open(out).size == (41, 48)
    assert Image.open(tmp_path / "hopper_2.png").size == (41, 48)
    assert Image.open(tmp_path / "hopper_costs.png").format == "PNG"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hopper.png", "hopper_2.png", "hopper_costs.png",
                                                          "texture.png"]


def test_two_styles_keep_colors_vgg19(tmp_path, style, capsys):
    out = tmp_path / "mix.jpg"
    code, stdout, _ = run(capsys, "stylize", GRACE_HOPPER, style, GRACE_HOPPER, "-o", out,
                          "--weights", "none", "--backbone", "vgg19", "--size", 40, "--steps", 2,
                          "--style-weights", 3, 1, "--keep-colors", "--save-every", 0, "--plot", "")
    assert code == 0 and stdout.splitlines()[-1] == f"wrote {out} (34×40 pixels)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mix.jpg", "texture.png"]


@pytest.mark.parametrize("arguments, message", [
    (["--size", 0], "--long-side must be at least 32, got 0"),
    (["--steps", -1], "--steps must be at least 1, got -1"),
    (["--lr", 0], "--lr must be positive, got 0.0"),
    (["--beta", "nan"], "--beta must be at least 0, got nan"),
    (["--save-every", -5], "--save-every must be at least 0, got -5"),
    (["--style-weights", 1, 2], "--style-weights: 2 weights for 1 style images"),
    (["--style-weights", -1], "--style-weights must be positive, got -1.0"),
    (["--backbone", "vgg16", "--weights", "W/vgg19.weights.h5"], "W/vgg19.weights.h5: not vgg16 weights"),
    (["--weights", "W/missing.h5"], "W/missing.h5: weights file not found"),
])
def test_mistakes_are_one_line_and_write_nothing(tmp_path, style, capsys, arguments, message):
    if "W/vgg19.weights.h5" in arguments:
        import keras

        keras.applications.VGG19(include_top=False, weights=None).save_weights(tmp_path / "vgg19.weights.h5")
    arguments = [str(a).replace("W/", f"{tmp_path}/") for a in arguments]
    before = set(tmp_path.iterdir())
    code, _, stderr = run(capsys, "stylize", GRACE_HOPPER, style, "-o", tmp_path / "out.png",
                          "--weights", "none", *arguments)
    assert code == 2
    assert stderr.startswith("yad2k-style: error: ") and stderr.count("\n") == 1
    assert message.replace("W/", f"{tmp_path}/") in stderr
    assert set(tmp_path.iterdir()) == before


def test_bad_files_are_one_line_and_write_nothing(tmp_path, style, capsys):
    broken = tmp_path / "broken.jpg"
    broken.write_text("not an image")
    (tmp_path / "folder").mkdir()
    cases = [
        ([broken, style, "-o", tmp_path / "a.png"], f"{broken}: not a readable image"),
        ([GRACE_HOPPER, tmp_path / "nope.png", "-o", tmp_path / "a.png"], "nope.png: no such file"),
        ([GRACE_HOPPER, style, "-o", tmp_path / "a.txt"], "a.txt: unknown image file extension"),
        ([GRACE_HOPPER, style, "-o", tmp_path / "folder"], "is a directory; give a file name"),
        ([GRACE_HOPPER, style, "-o", tmp_path / "nowhere" / "a.png"], "does not exist"),
        ([GRACE_HOPPER, style, "-o", style], "would overwrite an input image"),
        ([GRACE_HOPPER, style, "-o", tmp_path / "a.png", "--size", 33], "would be 28×33; VGG needs 32"),
    ]
    before = set(tmp_path.iterdir())
    for argv, message in cases:
        code, _, stderr = run(capsys, "stylize", *argv, "--weights", "none", "--steps", 1,
                              *([] if "--size" in argv else ["--size", 40]))
        assert (code, stderr.count("\n")) == (2, 1), stderr
        assert message in stderr, stderr
    assert set(tmp_path.iterdir()) == before
