# conftest.py: the fake provider for a pytest session, on a free port.
import os
import re
import shutil
import subprocess
import sys

import pytest

# The installed command: on PATH, or beside this interpreter (`.venv/bin/pytest` without an
# activated environment).
COMMAND = shutil.which("einvoice-mock") or os.path.join(
    os.path.dirname(sys.executable), "einvoice-mock"
)


@pytest.fixture(scope="session")
def einvoice_mock():
    """The fake's base URL, e.g. http://127.0.0.1:41234; stopped after the session."""
    process = subprocess.Popen(
        [COMMAND, "serve", "--port", "0", "--junit", "contract.xml"],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()  # the first line: "listening on http://HOST:PORT"
    match = re.match(r"listening on (https?://\S+)", line)
    if not match:
        process.kill()
        raise RuntimeError(f"einvoice-mock did not start: {line!r}")
    yield match.group(1)
    process.terminate()  # SIGTERM: a clean stop, the JUnit report completed
    process.wait(timeout=10)
