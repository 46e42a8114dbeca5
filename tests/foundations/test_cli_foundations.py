"""``yad2k-style receptive-field`` and ``visualize-units`` as users run them, mistakes included."""

from PIL import Image

from yad2k_style import cli


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_receptive_field_table_and_window(capsys):
    code, out, err = run(capsys, "receptive-field", "yolov2")
    lines = out.splitlines()
    assert (code, err) == (0, "")
    assert lines[0].split() == ["layer", "type", "n", "j", "r", "start"]
    assert lines[1].split() == ["input_1", "InputLayer", "608", "1", "1", "0.5"]
    assert lines[-1].split() == ["conv2d_23", "Conv2D", "19", "32", "566", "16"]
    assert len(lines) == 1 + 75
    code, out, _ = run(capsys, "receptive-field", "yolov2", "--position", 0, 18)
    assert out == ("conv2d_23 (0, 18): window y -267 to 299, x 309 to 875; reads rows 0 to 298, "
                   "columns 309 to 607\n")
    code, out, _ = run(capsys, "receptive-field", "yolov2-tiny", "--size", 320, 416,
                       "--layer", "max_pooling2d_1", "--position", 1, 2)
    assert out == "max_pooling2d_1 (1, 2): window y 1 to 5, x 3 to 7; reads rows 1 to 4, columns 3 to 6\n"


def test_receptive_field_mistakes(capsys):
    cases = [
        (["nonsense"], "nonsense: neither a model directory nor a registered model"),
        (["yolov2", "--layer", "conv99", "--position", 0, 0], "--layer: no layer 'conv99'"),
        (["yolov2", "--position", 19, 0], "conv2d_23 has rows 0 to 18 and columns 0 to 18, got 19 0"),
        (["yolov2", "--input-size", 0, 32], "--input-size must be at least 1, got 0"),
        (["window-classifier", "--size", 64, 64], "window-classifier is built at one input size only"),
        (["yolov2-tiny", "--size", 8, 8], "yolov2-tiny cannot be built at 8×8 ("),
    ]
    for argv, message in cases:
        code, out, err = run(capsys, "receptive-field", *argv)
        assert (code, out, err.count("\n")) == (2, "", 1) and message in err, err


def test_visualize_units_default_and_mistakes(tmp_path, capsys):
    out, filters = tmp_path / "units.png", tmp_path / "filters.png"
    code, stdout, err = run(capsys, "visualize-units", "-o", out, "--filters", filters, "--units", 0, 5,
                            "--top", 4)
    assert (code, err) == (0, "")
    lines = stdout.splitlines()
    assert lines[0].startswith("unit 0: strongest ") and lines[1].startswith("unit 5: strongest ")
    assert lines[2] == f"patches of 2 units of leaky_re_lu_4: {out}"
    assert lines[3] == f"16 first-layer filters (3×3): {filters}"
    assert Image.open(out).size == (64 + 4 * 50, 2 * 50)
    before = set(tmp_path.iterdir())
    for argv, message in [
        (["yolov2-shapes", "conv99"], "has no layer 'conv99' with a spatial output; its layers: conv2d_1, "),
        (["window-classifier"], "give a LAYER of window-classifier: conv, pool"),
        (["--units", 999], "has units 0 to "),
        (["--top", 0], "--top must be at least 1, got 0"),
        (["--images", tmp_path / "nowhere"], "--images"),
        (["-o", tmp_path / "no" / "u.png"], "does not exist"),
    ]:
        output = [] if "-o" in argv else ["-o", tmp_path / "x.png"]
        code, _, err = run(capsys, "visualize-units", *argv, *output, "--filters", "")
        assert (code, err.count("\n")) == (2, 1) and message in err, err
    assert set(tmp_path.iterdir()) == before
