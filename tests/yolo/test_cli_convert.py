"""``yad2k-style convert`` / ``export`` in-process: the summary line, and one-line errors (exit 2) that
leave no output behind."""

import numpy as np
import pytest

from yad2k_style import cli
from yad2k_style.artifacts import load_artifact
from yad2k_style.summary import compare_tables, model_table, read_table, reference_table_path


@pytest.fixture
def tiny(darknet_files):
    """(cfg, weights) of Tiny YOLOv2 (COCO) at 64×64 with random weights."""
    return darknet_files("yolov2-tiny", 64)


def run_failing(argv, capsys, out):
    """Run the CLI, expect exit 2 and one stderr line, no ``out`` and no staging directory beside it;
    returns the line."""
    assert cli.main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("yad2k-style: error: ")
    assert not out.exists()
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".")] == []
    return err[0][len("yad2k-style: error: "):]


def test_convert_command(tiny, tmp_path, capsys):
    cfg, weights = tiny
    out = tmp_path / "out"
    assert cli.main(["convert", str(cfg), str(weights), str(out)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert "Read 11,237,145 of 11,237,145 floats from yolov2-tiny.weights" in lines
    assert lines[-1] == (f"Wrote {out}: model 'yolov2_tiny', 32 layers, 11,237,145 params, "
                         f"output (2, 2, 425)")
    assert load_artifact(out).model.count_params() == 11_237_145

    assert cli.main(["export", str(out), str(tmp_path / "back.cfg"), str(tmp_path / "back.weights")]) == 0
    assert (tmp_path / "back.weights").read_bytes() == weights.read_bytes()


def test_classes_option(tiny, tmp_path, capsys):
    cfg, weights = tiny
    names = tmp_path / "names.txt"
    names.write_text("".join(f"thing {i}\n" for i in range(80)))
    assert cli.main(["convert", str(cfg), str(weights), str(tmp_path / "out"), "--classes", str(names)]) == 0
    assert load_artifact(tmp_path / "out").class_names[79] == "thing 79"
    names.write_text("a\nb\n")
    problem = run_failing(["convert", cfg, weights, tmp_path / "out2", "--classes", names], capsys,
                          tmp_path / "out2")
    assert problem == f"{names}: 2 class names, but {cfg} has classes=80"


def test_truncated_file(tiny, tmp_path, capsys):
    cfg, weights = tiny
    weights.write_bytes(weights.read_bytes()[:4_000_000])
    problem = run_failing(["convert", cfg, weights, tmp_path / "out"], capsys, tmp_path / "out")
    assert problem == (f"{weights}: truncated: {cfg} needs 11,237,145 floats, the file has 999,995; "
                       f"they run out in layer 10 ([convolutional] at {cfg}:88), which needs 1,181,696 "
                       f"floats from float 394,096")


def test_extra_floats_error_and_allow_extra(tiny, tmp_path, capsys):
    cfg, weights = tiny
    with open(weights, "ab") as file:
        file.write(np.zeros(1000, np.float32).tobytes())
    problem = run_failing(["convert", cfg, weights, tmp_path / "out"], capsys, tmp_path / "out")
    assert problem == (f"{weights}: 1,000 floats left over after the 11,237,145 that {cfg} needs "
                       f"(is this the cfg these weights were trained with?); --allow-extra accepts them")
    assert cli.main(["convert", str(cfg), str(weights), str(tmp_path / "out"), "--allow-extra"]) == 0
    captured = capsys.readouterr()
    assert captured.err.strip() == (f"yad2k-style: warning: {weights}: ignoring 1,000 floats left over after "
                                    f"the 11,237,145 that {cfg} needs (is this the cfg these weights were "
                                    f"trained with?)")
    assert "Read 11,237,145 of 11,237,146 floats" not in captured.out
    assert "Read 11,237,145 of 11,238,145 floats from yolov2-tiny.weights" in captured.out


def test_cfg_weights_mismatch(darknet_files, tmp_path, capsys):
    """Tiny COCO weights read with the tiny VOC cfg: misaligned at layer 13, where they first differ."""
    _, weights = darknet_files("yolov2-tiny", 64)
    cfg, _ = darknet_files("yolov2-tiny-voc", 64)
    problem = run_failing(["convert", cfg, weights, tmp_path / "out"], capsys, tmp_path / "out")
    assert problem == (f"{weights}: the floats do not fit the cfg: layer 13 ([convolutional] at {cfg}:110) "
                       f"reads negative or non-finite batch-norm variances, so the file was written for a "
                       f"different cfg")


def test_unknown_section(cfg_file, tiny, tmp_path, capsys):
    _, weights = tiny
    cfg = cfg_file("bad", text=tiny[0].read_text().replace("[maxpool]", "[lstm]", 1))
    problem = run_failing(["convert", cfg, weights, tmp_path / "out"], capsys, tmp_path / "out")
    assert problem == f"{cfg}:36: unsupported section [lstm]"


def test_missing_key(cfg_file, tiny, tmp_path, capsys):
    _, weights = tiny
    cfg = cfg_file("bad", text=tiny[0].read_text().replace("filters=32\n", "", 1))
    problem = run_failing(["convert", cfg, weights, tmp_path / "out"], capsys, tmp_path / "out")
    assert problem == f"{cfg}:40: [convolutional]: missing key 'filters'"


def test_not_a_darknet_header(tiny, tmp_path, capsys):
    cfg, weights = tiny
    weights.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(1000))
    problem = run_failing(["convert", cfg, weights, tmp_path / "out"], capsys, tmp_path / "out")
    assert problem.startswith(f"{weights}: not a Darknet weights file: header version 1178880137.")


def test_existing_output_is_kept(tiny, tmp_path, capsys):
    cfg, weights = tiny
    out = tmp_path / "out"
    out.mkdir()
    assert cli.main(["convert", str(cfg), str(weights), str(out)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"yad2k-style: error: {out}: already exists; give a new output directory")
    assert list(out.iterdir()) == []


def test_failure_while_writing_leaves_nothing(tiny, tmp_path, monkeypatch, capsys):
    cfg, weights = tiny

    from yad2k_style.weights_file import WeightsFileWriter

    write = WeightsFileWriter.write

    def fail_at_the_fifth(self, variable, array):  # the disk fills up halfway through the weights
        if len(self.written) == 4:
            raise OSError("disk full")
        write(self, variable, array)

    monkeypatch.setattr(WeightsFileWriter, "write", fail_at_the_fifth)
    assert cli.main(["convert", str(cfg), str(weights), str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == "yad2k-style: error: disk full\n"  # one line, no traceback
    assert [p.name for p in tmp_path.iterdir()] == [cfg.parent.name]


@pytest.mark.slow
def test_convert_608_yolov2_as_the_course_model(darknet_files, tmp_path, capsys):
    cfg, weights = darknet_files("yolov2")
    out = tmp_path / "yolov2"
    assert cli.main(["convert", str(cfg), str(weights), str(out), "--reorg", "space_to_depth"]) == 0
    assert "Read 50,983,561 of 50,983,561 floats from yolov2.weights" in capsys.readouterr().out
    assert compare_tables(model_table(load_artifact(out).model), read_table(reference_table_path())) == []
