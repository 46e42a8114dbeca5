import pytest

from yad2k_style.errors import FormatError
from yad2k_style.files import atomic_path, atomic_write, read_text


def test_atomic_write_replaces_whole_file_or_nothing(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(target, "w") as file:
        file.write("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    with atomic_write(target, "w", encoding="utf-8") as file:
        file.write("new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]   # no temporary files left


def test_atomic_path_keeps_multi_suffixes_and_cleans_up(tmp_path):
    target = tmp_path / "model.weights.h5"
    with pytest.raises(RuntimeError), atomic_path(target) as temporary:
        assert temporary.name.endswith(".weights.h5") and temporary.parent == tmp_path
        temporary.write_bytes(b"half")
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []
    with atomic_path(target) as temporary:
        temporary.write_bytes(b"whole")
    assert target.read_bytes() == b"whole"
    assert [p.name for p in tmp_path.iterdir()] == ["model.weights.h5"]


def test_read_text_errors_are_one_line_naming_the_file(tmp_path):
    (tmp_path / "ok.txt").write_text("héllo\n", encoding="utf-8")
    assert read_text(tmp_path / "ok.txt") == "héllo\n"
    (tmp_path / "latin.txt").write_bytes(b"caf\xe9")
    cases = {tmp_path / "missing.txt": "file not found", tmp_path: "is a directory, not a file",
             tmp_path / "latin.txt": "not UTF-8 text (unexpected end of data at byte 3)"}
    for path, problem in cases.items():
        with pytest.raises(FormatError) as caught:
            read_text(path)
        assert str(caught.value) == f"{path}: {problem}"
