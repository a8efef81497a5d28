"""Worker processes for ``heat-api`` and ``heat-engine``, as Heat's launcher runs them.

The parent binds the listening socket (if any), forks the workers, restarts a worker that
dies, and passes SIGTERM/SIGINT on to them. A worker is a fresh asyncio program: nothing
with threads or open connections is created in the parent before the fork.

A worker stops as on SIGTERM when its parent dies, however it dies (SIGKILL included): the
parent alone holds the write end of a pipe whose read end every worker watches, and the
kernel closes it with the parent, so the workers see end-of-file. Nothing is ever written
to it. (``PR_SET_PDEATHSIG`` would follow the parent's thread rather than its process, and
is Linux only.) A restarted parent therefore never finds the old workers still consuming.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import setproctitle
import uvloop
from prometheus_client import REGISTRY, CollectorRegistry, multiprocess, start_http_server
from prometheus_client import values as prometheus_values

from ember.cmd.config import ConfigError, load_settings
from ember.cmd.logs import setup_logging
from ember.common.settings import Listener, Settings
from ember.rpc.factory import is_inproc
from ember.rpc.transport import Transport

LOG = logging.getLogger(__name__)
# A worker that dies sooner than this after starting is restarted only after a pause, so a
# broken configuration does not spin.
QUICK_DEATH = 5.0
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


@dataclass
class _Supervision:
    """In a worker: the read end of the pipe its parent holds open (None in a parent or a
    process running alone)."""

    parent_pipe: int | None = None


_SUPERVISION = _Supervision()


def broker_settings(argv: Sequence[str] | None, prog: str, why: str) -> Settings:
    """Logging set up and the settings of a process that needs a message broker (``why``
    says what for); a bad configuration ends the process with status 2."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = load_settings(list(sys.argv[1:] if argv is None else argv), prog=prog)
        setup_logging(settings, prog)
    except ConfigError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    if is_inproc(settings):
        print(
            f"{prog}: needs a message broker {why}: set [DEFAULT] transport_url (or "
            "rabbit_host); heat-all runs everything in one process",
            file=sys.stderr,
        )
        raise SystemExit(2)
    return settings


def listen(listener: Listener) -> socket.socket:
    family = socket.AF_INET6 if ":" in listener.bind_host else socket.AF_INET
    # IPPROTO_TCP spelled out: asyncio turns Nagle off only for sockets that say they are
    # TCP, and Nagle with delayed ACKs costs ~40 ms a response.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((listener.bind_host, listener.bind_port))
    except OSError as exc:
        sock.close()
        raise SystemExit(
            f"cannot listen on {listener.bind_host}:{listener.bind_port}: {exc.strerror}"
        ) from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def run_api(
    settings: Settings,
    listener: Listener,
    serve: Callable[[Settings, socket.socket], Coroutine[Any, Any, None]],
    name: str,
    auth: str,
) -> int:
    """Listen on ``listener`` and serve it in ``listener.workers`` processes, each running
    ``serve`` on the one shared socket."""
    sock = listen(listener)
    LOG.info(
        "%s listening on %s:%d (%s), %d worker(s)",
        name,
        listener.bind_host,
        listener.bind_port,
        auth,
        listener.workers,
    )

    def worker() -> int:
        run_loop(serve(settings, sock))
        return 0

    return run_workers(listener.workers, worker, name)


async def serve_until_stopped(
    api: Any, sock: socket.socket, stop: asyncio.Event, name: str
) -> None:
    """Serve ``sock`` with the uvicorn server ``api`` until ``stop`` is set, then let the
    requests under way finish."""
    serving = asyncio.create_task(api.serve(sockets=[sock]))
    print(f"{name} ready", flush=True)
    await stop.wait()
    api.should_exit = True
    await serving


def name_process(name: str, role: str | None = None) -> None:
    """Title this process as Heat's are (``heat-api: master process [argv]``), so that ``ps``
    shows which service it is and ``pkill heat-api`` finds it: the kernel's process name
    (what ``pkill`` matches) becomes the title's first 15 bytes."""
    command = " ".join(sys.argv)
    setproctitle.setproctitle(f"{name}: {role}" if role else f"{name} [{command}]")


def share_metrics(name: str) -> str | None:
    """Before forking workers: a directory where each worker keeps its metrics, so that
    any worker's ``/metrics`` adds up all of theirs (prometheus_client's multiprocess
    mode). The directory made here (None if the operator named one) is removed when the
    workers have stopped."""
    if os.environ.get(MULTIPROC_ENV):
        return None
    made = tempfile.mkdtemp(prefix=f"{name}-metrics-")
    os.environ[MULTIPROC_ENV] = made
    # prometheus_client chose how metrics keep values when it was imported, before the
    # variable was set: choose again, before any metric has a value.
    prometheus_values.ValueClass = prometheus_values.get_value_class()  # type: ignore[no-untyped-call]
    LOG.info("%s workers keep their metrics in %s", name, made)
    return made


def serve_metrics(listener: Listener, name: str) -> None:
    """``GET /metrics`` on ``listener``, from a thread of this process (a supervisor
    runs no event loop): its workers' metrics when they share them, else its own."""
    registry: CollectorRegistry = REGISTRY
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    start_http_server(listener.bind_port, listener.bind_host, registry)
    LOG.info("%s serves its metrics on %s:%d", name, listener.bind_host, listener.bind_port)


def run_workers(
    count: int,
    worker: Callable[[], int],
    name: str,
    metrics: Listener | None = None,
) -> int:
    """Run ``worker`` in ``count`` processes (in this one when ``count`` is 1); with
    ``metrics``, this process also serves every worker's metrics there."""
    if count <= 1:
        name_process(name)
        if metrics is not None:
            serve_metrics(metrics, name)
        return worker()
    name_process(name, f"master process [{' '.join(sys.argv)}]")
    metrics_dir = share_metrics(name)
    try:
        if metrics is not None:
            serve_metrics(metrics, name)
        return _supervise(count, worker, name)
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _supervise(count: int, worker: Callable[[], int], name: str) -> int:
    stopping = False
    children: dict[int, float] = {}
    # Both ends are closed on exec (PEP 446): only forked workers inherit them.
    watched, held = os.pipe()

    def spawn() -> None:
        pid = os.fork()
        if pid == 0:
            os.close(held)  # from now on only the parent holds it open
            _run_child(worker, name, watched)
        children[pid] = time.monotonic()

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for _ in range(count):
        spawn()
    LOG.info("%s running %d worker processes", name, count)
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        started = children.pop(pid, None)
        if started is None:
            continue
        if os.environ.get(MULTIPROC_ENV):
            multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
        if stopping:
            continue
        code = os.waitstatus_to_exitcode(status)
        how = f"was killed by signal {-code}" if code < 0 else f"exited with {code}"
        LOG.error("%s worker %d %s; starting another", name, pid, how)
        if time.monotonic() - started < QUICK_DEATH:
            time.sleep(QUICK_DEATH)
        if not stopping:
            spawn()
    return 0


def _run_child(worker: Callable[[], int], name: str, parent_pipe: int) -> None:
    """A forked worker's life: ``worker`` runs, then the process exits with its status."""
    name_process(name, "worker process")
    _SUPERVISION.parent_pipe = parent_pipe
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    code = 1
    try:
        code = worker()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        LOG.exception("%s worker failed", name)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


async def connect(transport: Transport, delay: float, stop: asyncio.Event, name: str) -> bool:
    """Start ``transport``, trying again every ``delay`` seconds while the broker is down.
    False if asked to stop first."""
    while not stop.is_set():
        try:
            await transport.start()
            return True
        except Exception as exc:
            LOG.warning("%s: message broker not reachable (%s); retrying", name, exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), max(delay, 0.5))
    return False


def run_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run a service's main coroutine on uvloop (libuv), which serves sockets with less
    Python per request than the default loop."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)


def stop_event() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT in the running loop, or, in a worker, when its
    parent has gone."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    pipe = _SUPERVISION.parent_pipe
    if pipe is not None:

        def parent_gone() -> None:
            loop.remove_reader(pipe)
            LOG.error("worker %d: its parent process has gone; stopping", os.getpid())
            stop.set()

        # Readable only at end-of-file: the parent never writes.
        loop.add_reader(pipe, parent_gone)
    return stop
