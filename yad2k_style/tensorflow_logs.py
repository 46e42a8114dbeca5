"""TensorFlow's C++ start-up log lines, kept out of the command's output unless ``--verbose``.

TensorFlow writes them to file descriptor 2 while it is imported and when it first looks for devices
(``cudart_stub.cc … Could not find cuda drivers``, ``oneDNN custom operations are on``, ``failed call to
cuInit``), some before ``TF_CPP_MIN_LOG_LEVEL`` is read. :func:`import_tensorflow_quietly` does both
with descriptor 2 sent to a temporary file, then passes on whatever else was written there.
"""

import contextlib
import os
import re
import sys
import tempfile

NOISE = re.compile(r"[IWEF]\d{4} |WARNING: All log messages before absl::InitializeLog|"
                   r"To enable the following instructions")


#: What TFLite's int8 converter and LiteRT's interpreter print natively while they start.
LITERT_NOISE = re.compile(r"fully_quantize: |INFO: Created TensorFlow Lite|" + NOISE.pattern)


@contextlib.contextmanager
def native_stderr_without(noise):
    """Send file descriptor 2 to a temporary file for the block, then pass on the lines that do not
    match ``noise`` (a compiled pattern, matched at line starts)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [line for line in captured.read().decode(errors="replace").splitlines(keepends=True)
                    if not noise.match(line)]
            sys.stderr.write("".join(kept))


def import_tensorflow_quietly():
    """Import TensorFlow and initialise its devices without their log lines on stderr."""
    if "tensorflow" in sys.modules:
        return
    with native_stderr_without(NOISE):
        import tensorflow as tf

        tf.constant(0)  # the first device lookup logs too (cuInit)
