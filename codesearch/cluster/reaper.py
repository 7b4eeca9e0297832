"""Take a local Ray cluster's processes down with a driver that was killed.

Killed with SIGKILL, a driver takes Ray's GCS and raylet with it, but Ray's dashboard and
runtime-env agents linger about 60 s (they report the raylet's death to the dead GCS with
a timeout fixed in Ray). ``start`` spawns this file as a small watchdog holding a pipe from
the driver. While the driver lives, the watchdog keeps a list of the driver's descendants
(with their start times, so a reused pid is never taken for one of them). When the pipe
closes without the word ``done`` (the driver died), it SIGKILLs the descendants it knew.

Stdlib only, and run with ``python -I`` (no current directory, no environment paths), so it
imports nothing a repository ships. Linux only (it reads ``/proc``); elsewhere it is not started.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from pathlib import Path

DONE = b"done\n"
POLL_SECONDS = 0.5


def start(driver: int) -> subprocess.Popen[bytes] | None:
    """Spawn the watchdog of ``driver``'s descendants; ``stop`` it when the cluster shut down cleanly."""
    if not Path("/proc/self/stat").exists():
        return None
    return subprocess.Popen([sys.executable, "-I", __file__, str(driver)], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def stop(watchdog: subprocess.Popen[bytes] | None) -> None:
    """Tell the watchdog the driver ends cleanly: it exits without killing anything."""
    if watchdog is None or watchdog.stdin is None:
        return
    try:
        watchdog.stdin.write(DONE)
        watchdog.stdin.close()
    except OSError:
        pass
    try:
        watchdog.wait(timeout=5)
    except subprocess.TimeoutExpired:
        watchdog.kill()


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, start time) of ``pid``, or None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    fields = raw[raw.rindex(b")") + 2:].split()  # after "pid (comm) "
    return int(fields[1]), int(fields[19])


def descendants(root: int) -> dict[int, int]:
    """Every living descendant of ``root``: pid -> start time."""
    parents: dict[int, tuple[int, int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (info := _stat(int(entry))) is not None:
            parents[int(entry)] = info
    found: dict[int, int] = {}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, started) in parents.items():
            if ppid == parent and pid not in found:
                found[pid] = started
                frontier.append(pid)
    return found


def watch(driver: int) -> None:
    """Refresh the driver's descendants until stdin closes; kill them unless told ``done``."""
    known: dict[int, int] = {}
    received = b""
    while True:
        ready, _, _ = select.select([sys.stdin.buffer], [], [], POLL_SECONDS)
        if ready:
            chunk = os.read(sys.stdin.fileno(), 64)
            if chunk:
                received += chunk
                continue
            break  # the pipe closed: the driver ended
        known.update(descendants(driver))
        known.pop(os.getpid(), None)
    if received.endswith(DONE):
        return
    for pid, started in known.items():
        info = _stat(pid)
        if info is not None and info[1] == started:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


if __name__ == "__main__":
    watch(int(sys.argv[1]))
