"""TensorFlow's C++ start-up log lines, kept out of the command's output unless ``--verbose``.

TensorFlow writes them to file descriptor 2 while it is imported and when it first looks for devices
(``cudart_stub.cc … Could not find cuda drivers``, ``oneDNN custom operations are on``, ``failed call to
cuInit``), some before ``TF_CPP_MIN_LOG_LEVEL`` is read. :func:`import_tensorflow_quietly` does both
with descriptor 2 sent to a temporary file, then passes on whatever else was written there.
"""

import os
import re
import sys
import tempfile

NOISE = re.compile(r"[IWEF]\d{4} |WARNING: All log messages before absl::InitializeLog|"
                   r"To enable the following instructions")


def import_tensorflow_quietly():
    """Import TensorFlow and initialise its devices without their log lines on stderr."""
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow as tf

            tf.constant(0)  # the first device lookup logs too (cuInit)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [line for line in captured.read().decode(errors="replace").splitlines(keepends=True)
                    if not NOISE.match(line)]
            sys.stderr.write("".join(kept))
