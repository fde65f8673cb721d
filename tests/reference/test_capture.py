import os
import subprocess
import sys

from harness.reference.capture import capture_fds


def test_captures_native_writes_and_restores(capfd):
    with capture_fds(1, 2) as captured:
        os.write(1, b"to stdout\n")
        os.write(2, b"to stderr\n")
        subprocess.run([sys.executable, "-c", "import os; os.write(2, b'child\\n')"], check=True)
    assert captured.text(1) == "to stdout\n"
    assert captured.text(2) == "to stderr\nchild\n"
    os.write(1, b"after\n")
    assert capfd.readouterr().out == "after\n"


def test_restores_after_an_exception():
    try:
        with capture_fds(2) as captured:
            os.write(2, b"before failing\n")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert captured.text(2) == "before failing\n"
    assert os.get_inheritable(2) in (True, False)  # fd 2 is still open
