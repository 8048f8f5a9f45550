"""start_fake(): the einvoice-mock command on a free port, driven through its admin API."""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import sys
import sysconfig
import threading
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Iterable, Optional

_EXE = "einvoice-mock.exe" if os.name == "nt" else "einvoice-mock"
_STDERR_KEPT = 16 * 1024


def binary_path() -> str:
    """The ``einvoice-mock`` binary: ``EINVOICE_MOCK_BINARY`` when set, else the one this wheel
    installed into the environment's scripts directory, else the first on PATH."""
    override = os.environ.get("EINVOICE_MOCK_BINARY")
    if override:
        return override
    scripts = [sysconfig.get_path("scripts")]
    try:
        scripts.append(sysconfig.get_path("scripts", f"{os.name}_user"))
    except KeyError:
        pass
    scripts.append(os.path.join(sys.prefix, "Scripts" if os.name == "nt" else "bin"))
    for directory in scripts:
        if directory:
            candidate = os.path.join(directory, _EXE)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
    found = shutil.which("einvoice-mock")
    if found:
        return found
    raise FileNotFoundError(
        "einvoice-mock: no binary in this environment's scripts directory or on PATH; "
        "install the einvoice-mock wheel or set EINVOICE_MOCK_BINARY"
    )


class Fake:
    """A running fake: its ``url`` and its admin API. Stop it with :meth:`stop` (or ``with``)."""

    def __init__(self, process: subprocess.Popen, url: str, admin_token: Optional[str],
                 stderr_tail: "_Tail") -> None:
        self.process = process
        self.url = url
        self._admin_token = admin_token
        self._stderr = stderr_tail
        self._status: Optional[int] = None

    def _admin(self, method: str, path: str, body: Any = None) -> Any:
        headers = {}
        data = None
        if self._admin_token:
            headers["X-Admin-Token"] = self._admin_token
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"{method} {path}: {error.code} {error.read().decode()}") from None
        return json.loads(text) if text else None

    def arm(self, scenario: Any) -> Any:
        """Arm a scenario (or a list of them): ``{"operation": "saldos", "respond": "401"}``."""
        return self._admin("POST", "/__admin/scenarios", scenario)

    def disarm(self) -> None:
        """Disarm every scenario."""
        self._admin("DELETE", "/__admin/scenarios")

    def journal(self, **query: Any) -> Dict[str, Any]:
        """``GET /__admin/requests``: the whole answer (``requests``, ``summary``, and any field
        the server adds, such as a paging cursor). Keyword arguments are its query parameters
        (``operation``, ``verdict``, ``status``, ``since``, ``limit``)."""
        pairs = {k: str(v) for k, v in query.items() if v is not None}
        suffix = f"?{urllib.parse.urlencode(pairs)}" if pairs else ""
        return self._admin("GET", f"/__admin/requests{suffix}")

    def violations(self) -> Dict[str, Any]:
        return self._admin("GET", "/__admin/violations")

    def coverage(self) -> Dict[str, Any]:
        """``GET /__admin/coverage``: per operation, documented answers received and fields sent."""
        return self._admin("GET", "/__admin/coverage")

    def reset(self) -> None:
        """Seed state back, scenarios disarmed, journal emptied."""
        self._admin("POST", "/__admin/reset")

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait (the JUnit report is completed); returns the exit status, 1 when
        ``fail_on_violation`` and a request broke the contract."""
        if self._status is None:
            if self.process.poll() is None:
                self.process.terminate()
            try:
                self._status = self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self._status = self.process.wait()
        return self._status

    @property
    def stderr(self) -> str:
        """The last lines the fake logged."""
        return self._stderr.text()

    def __enter__(self) -> "Fake":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Tail:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._text = ""

    def add(self, chunk: str) -> None:
        with self._lock:
            self._text = (self._text + chunk)[-_STDERR_KEPT:]

    def text(self) -> str:
        with self._lock:
            return self._text


def start_fake(
    config: Optional[str] = None,
    junit: Optional[str] = None,
    *,
    fail_on_violation: bool = False,
    admin_token: Optional[str] = None,
    port: int = 0,
    args: Iterable[str] = (),
    binary: Optional[str] = None,
    start_timeout: float = 30.0,
) -> Fake:
    """Start ``einvoice-mock serve`` (on a free port by default) and wait for its
    ``listening on URL`` line."""
    command = [binary or binary_path(), "serve", "--port", str(port)]
    if config:
        command += ["--config", str(config)]
    if junit:
        command += ["--junit", str(junit)]
    if fail_on_violation:
        command.append("--fail-on-violation")
    if admin_token:
        command += ["--admin-token", admin_token]
    command += list(args)
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, encoding="utf-8", errors="replace",
    )
    tail = _Tail()
    lines: "queue.Queue[Optional[str]]" = queue.Queue()

    # Both pipes are drained for the process's life, so that it never blocks writing.
    def read_stdout() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    def read_stderr() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            tail.add(line)

    threading.Thread(target=read_stdout, daemon=True).start()
    threading.Thread(target=read_stderr, daemon=True).start()
    try:
        first = lines.get(timeout=start_timeout)
    except queue.Empty:
        first = None
    match = re.match(r"listening on (https?://\S+)", first or "")
    if not match:
        process.kill()
        process.wait()
        raise RuntimeError(
            f"einvoice-mock did not start ({' '.join(command)}): first line {first!r}\n{tail.text()}"
        )
    return Fake(process, match.group(1), admin_token, tail)
