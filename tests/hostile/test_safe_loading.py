"""Safe loading, enforced by reading the source: the package, its scripts and benchmarks are parsed
with ``ast`` (not searched as text: ``evaluate`` is not ``eval``, a docstring naming pickle is not an
import) and no module may run code from a file — no pickle, marshal or shelve, no ``eval``/``exec``,
no ``np.load(..., allow_pickle=True)``, no ``load_model(..., safe_mode=False)`` nor Keras' unsafe
deserialisation switch, no ``yaml.load`` without a safe loader, no ``torch.load``. The scanner is
itself tested on a module that does each of these."""

import ast
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("yad2k_style", "scripts", "bench")
FORBIDDEN_MODULES = {"pickle", "cPickle", "_pickle", "marshal", "shelve", "dill", "cloudpickle", "joblib"}
FORBIDDEN_BUILTINS = {"eval", "exec"}
SAFE_YAML_LOADERS = {"SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader"}
YAML_LOADS = {"load", "load_all", "unsafe_load", "unsafe_load_all", "full_load", "full_load_all"}


def _dotted(expression):
    """``a.b.c`` → ``"a.b.c"``; ``f`` → ``"f"``; anything else → ``""``."""
    parts = []
    while isinstance(expression, ast.Attribute):
        parts.append(expression.attr)
        expression = expression.value
    if not isinstance(expression, ast.Name):
        return ""
    return ".".join([expression.id, *reversed(parts)])


def _keyword(node, name):
    return next((k.value for k in node.keywords if k.arg == name), None)


def _is_constant(node, value):
    return isinstance(node, ast.Constant) and node.value is value


def unsafe_uses(source, filename="<source>"):
    """The unsafe loading in Python ``source`` → list of ``"file:line: what"``."""
    found = []

    def report(node, what):
        found.append(f"{filename}:{node.lineno}: {what}")

    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in FORBIDDEN_MODULES:
                    report(node, f"imports {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            if (node.module or "").split(".")[0] in FORBIDDEN_MODULES:
                report(node, f"imports from {node.module}")
        elif isinstance(node, ast.Call):
            name = _dotted(node.func)
            last = name.rsplit(".", 1)[-1]
            if name in FORBIDDEN_BUILTINS or name in {f"builtins.{b}" for b in FORBIDDEN_BUILTINS}:
                report(node, f"calls {name}")
            if last == "load" and _is_constant(_keyword(node, "allow_pickle"), True):
                report(node, f"{name}(allow_pickle=True)")
            if _is_constant(_keyword(node, "safe_mode"), False):
                report(node, f"{name}(safe_mode=False)")
            if last == "enable_unsafe_deserialization":
                report(node, f"calls {name}")
            if name.startswith("yaml.") and last in YAML_LOADS:
                loader = _keyword(node, "Loader") or (node.args[1] if len(node.args) > 1 else None)
                safe = _dotted(loader).rsplit(".", 1)[-1] in SAFE_YAML_LOADERS
                if last not in ("load", "load_all") or not safe:
                    report(node, f"{name} without a safe loader")
            if name == "torch.load":
                report(node, "torch.load (pickle)")
    return found


def test_the_scanner_finds_every_unsafe_pattern():
    source = textwrap.dedent("""
        import pickle
        from marshal import loads
        import numpy as np, keras, yaml
        eval("1 + 1")
        exec("x = 1")
        np.load("a.npz", allow_pickle=True)
        keras.saving.load_model("m.keras", safe_mode=False)
        keras.config.enable_unsafe_deserialization()
        yaml.load(open("a.yaml"))
        yaml.unsafe_load("a: 1")
        torch.load("w.pt")
    """)
    found = unsafe_uses(source, "bad.py")
    assert [line.split(": ", 1)[1] for line in found] == [
        "imports pickle", "imports from marshal", "calls eval", "calls exec",
        "np.load(allow_pickle=True)", "keras.saving.load_model(safe_mode=False)",
        "calls keras.config.enable_unsafe_deserialization", "yaml.load without a safe loader",
        "yaml.unsafe_load without a safe loader", "torch.load (pickle)"]
    assert [line.split(":")[1] for line in found][:2] == ["2", "3"]


def test_the_scanner_passes_the_safe_forms():
    source = textwrap.dedent('''
        """Docstrings may name pickle, eval( and marshal."""
        import numpy as np, keras, yaml
        from yad2k_style.detection.evaluate import evaluate_detector
        evaluate_detector(None)
        model.evaluate(x)
        np.load("a.npz", allow_pickle=False)
        np.load("a.npy")
        keras.saving.load_model("m.keras", safe_mode=True)
        yaml.load(text, Loader=yaml.SafeLoader)
        yaml.safe_load(text)
        yaml.load(text, yaml.CSafeLoader)
    ''')
    assert unsafe_uses(source) == []


@pytest.mark.parametrize("folder", SCANNED)
def test_no_module_loads_unsafely(folder):
    files = sorted((ROOT / folder).rglob("*.py"))
    assert files
    found = [use for path in files for use in unsafe_uses(path.read_text(encoding="utf-8"),
                                                          str(path.relative_to(ROOT)))]
    assert found == []
