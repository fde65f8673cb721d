"""Process-level helpers for TensorFlow work: quiet output, seeds, determinism."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

# TF's C++ logging goes to fd 2 as soon as TF is imported; ask for errors only unless the user chose.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Send everything written to fd 1 (Python and C++) to fd 2 while the block runs.

    The TFLite converter and Keras 3 print progress on stdout; `--json` consumers read stdout,
    so conversions run inside this block. A Python-level redirect is not enough: the C++ side
    writes to the file descriptor directly.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved, 1)
        os.close(saved)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow and ask TF for deterministic kernels."""
    import tensorflow as tf
    import tf_keras

    tf_keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
