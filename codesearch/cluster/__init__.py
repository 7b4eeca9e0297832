"""Many repositories on a Ray cluster: ``index-many``, workspace serving.

The only package that imports ``ray`` (the ``cluster`` extra). A laptop needs none of
it: every index it builds is an ordinary ``codesearch index`` directory, and a
workspace is searched without Ray by ``codesearch search --workspace``.
"""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from codesearch.cluster import reaper
from codesearch.errors import CodeSearchError, MissingExtra


def require_ray() -> Any:
    """The ``ray`` module.

    :raises MissingExtra: if Ray is not installed.
    """
    try:
        import ray
    except ImportError as exc:
        raise MissingExtra("the cluster commands need Ray: pip install 'codesearch[cluster]'") from exc
    return ray


@contextmanager
def connected(address: str, cpus: int | None = None) -> Iterator[Any]:
    """Connect to the Ray cluster at ``address`` (``local``: start one on this machine) for the block.

    A local cluster's workers start in a fresh private directory, not in the current one:
    Ray puts the driver's working directory on its workers' ``sys.path``, and the current
    directory may be a repository being indexed, whose Python files must never be imported.

    Known limits of a local cluster, both Ray's own (checked with Ray 2.60):

    - Killed with SIGKILL, the driver takes Ray's GCS, raylet and workers with it (Ray starts
      them with PR_SET_PDEATHSIG), but its dashboard and runtime-env agents would linger about
      60 s: they notice the raylet's death at once, then try to report it to the dead GCS with
      a 60-second timeout fixed in Ray (``ray._private.process_watcher.report_raylet_error_logs``)
      that no option shortens. A local cluster therefore runs with a watchdog
      (``codesearch.cluster.reaper``) that kills the driver's leftover descendants when it dies.
    - Ray's gRPC servers (GCS, raylet, workers) listen on every interface whatever
      ``_node_ip_address`` says; Ray's token authentication (on by default in 2.60; do not
      set ``RAY_AUTH_MODE=disabled``) is what guards them. ``codesearch serve``'s own HTTP
      port listens only on ``--host`` (127.0.0.1 by default).

    :param cpus: CPUs of a local cluster (default: all).
    :raises MissingExtra: if Ray is not installed.
    :raises CodeSearchError: if the cluster cannot be reached.
    """
    ray = require_ray()
    if ray.is_initialized():  # a caller (a test, a notebook) already connected
        yield ray
        return
    options: dict[str, Any] = dict(include_dashboard=False, log_to_driver=False, configure_logging=False)
    if address == "local":
        options["num_cpus"] = cpus
    else:
        _check_reachable(address)
        options["address"] = address
    previous = os.getcwd()
    private = tempfile.mkdtemp(prefix="codesearch-ray-")
    os.chdir(private)
    try:
        try:
            ray.init(**options)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise CodeSearchError(f"cannot reach the Ray cluster at {address} ({exc})") from exc
        watchdog = reaper.start(os.getpid()) if address == "local" else None
        try:
            yield ray
        finally:
            ray.shutdown()
            reaper.stop(watchdog)
    finally:
        os.chdir(previous)
        try:
            os.rmdir(private)
        except OSError:
            pass


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail in seconds, not minutes, when nothing listens at a ``HOST:PORT`` address (Ray itself
    retries for minutes). Other forms (``auto``, ``ray://...``) are left to Ray.

    :raises CodeSearchError: if the port does not accept a connection.
    """
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or "://" in address:
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise CodeSearchError(f"cannot reach the Ray cluster at {address} ({exc.strerror or exc}); "
                              "is `ray start --head` running there?") from exc
