"""Following a stack operation to its end: the events as they come, live progress on a
terminal (plain lines otherwise), a summary, and the root cause of a failure first.

Events come from an ``EventSource``: ``StreamedEvents`` reads Ember's event stream (each
event as it is committed), ``PollingEvents`` polls the events API with a marker (every
``interval`` seconds), which is what the former falls back to against Heat."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TextIO

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text

from ember.client import Client, Event, HeatError, NotFound, Resource, Stack
from ember.common.root_causes import Listed, StackTree
from ember.common.root_causes import root_causes as common_root_causes

# How deep the listings reach into nested stacks (the service caps it at its
# max_nested_stack_depth, 5 by default; deeper failures are fetched stack by stack).
NESTED_DEPTH = 5
POLL_INTERVAL = 0.2
RECONNECT_DELAY = 0.5
REFRESH_INTERVAL = 1.0
# How long a failed create or update with rollback on may take to start rolling back.
ROLLBACK_GRACE = 3.0

EXIT_COMPLETE, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_TIMEOUT = 0, 1, 2, 3


class EventSource(Protocol):
    """The events of one stack (and its nested stacks), each once, oldest first."""

    def next(self) -> list[Event]:
        """The events that came since the last call, waiting a little for some."""
        ...

    def close(self) -> None:
        """Done with: whatever it holds open goes."""
        ...


class PollingEvents:
    """An ``EventSource`` polling ``GET .../events`` after the last event seen."""

    def __init__(
        self,
        client: Client,
        stack: str,
        *,
        marker: str | None = None,
        nested_depth: int = NESTED_DEPTH,
        interval: float = POLL_INTERVAL,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.stack = stack
        self.marker = marker
        self.nested_depth = nested_depth
        self.interval = interval
        self.sleep = sleep
        self._first = True

    @classmethod
    def after_latest(
        cls, client: Client, stack: str, *, interval: float = POLL_INTERVAL
    ) -> PollingEvents:
        """A source of the events that come after those the stack has now."""
        latest = client.events(stack, limit=1, sort_dir="desc", nested_depth=NESTED_DEPTH)
        marker = latest[0].id if latest else None
        return cls(client, stack, marker=marker, interval=interval)

    def next(self) -> list[Event]:
        if not self._first:
            self.sleep(self.interval)
        self._first = False
        try:
            found = self.client.events(
                self.stack, marker=self.marker, nested_depth=self.nested_depth, sort_dir="asc"
            )
        except NotFound:
            return []  # deleted
        if found:
            self.marker = found[-1].id
        return found

    def close(self) -> None:
        """Nothing to close: each poll is a request of its own."""


class StreamedEvents:
    """An ``EventSource`` reading Ember's event stream on a thread of its own (an event is
    shown as soon as it is committed), reconnecting with the last event id when the stream
    breaks; against a service without the stream (Heat), polling instead."""

    def __init__(
        self,
        client: Client,
        stack: str,
        *,
        marker: str | None = None,
        interval: float = POLL_INTERVAL,
    ) -> None:
        self.client = client
        self.stack = stack
        self.interval = interval
        self.last = marker
        self._inbox: queue.Queue[Event] = queue.Queue()
        self._polling: PollingEvents | None = None
        self._unsupported = threading.Event()
        self._stop = threading.Event()
        # A client of its own: its HTTP connection is the stream's alone.
        self._streamer = Client(client.session)
        self._thread = threading.Thread(target=self._read, daemon=True, name="ember-events")
        self._thread.start()

    @classmethod
    def after_latest(
        cls, client: Client, stack: str, *, interval: float = POLL_INTERVAL
    ) -> StreamedEvents:
        latest = client.events(stack, limit=1, sort_dir="desc", nested_depth=NESTED_DEPTH)
        return cls(client, stack, marker=latest[0].id if latest else None, interval=interval)

    def _read(self) -> None:
        first = True
        while not self._stop.is_set():
            try:
                for event in self._streamer.stream_events(self.stack, last_event_id=self.last):
                    first = False
                    self.last = event.id
                    self._inbox.put(event)
            except NotFound:
                if first:  # no stream here: poll instead
                    self._unsupported.set()
                    return
            except HeatError:
                first = False  # it broke: connect again, from the last event seen
            if self._stop.wait(RECONNECT_DELAY):
                return

    def next(self) -> list[Event]:
        if self._unsupported.is_set():
            if self._polling is None:
                self._polling = PollingEvents(
                    self.client, self.stack, marker=self.last, interval=self.interval
                )
            return self._polling.next()
        found: list[Event] = []
        try:
            found.append(self._inbox.get(timeout=self.interval))
        except queue.Empty:
            return found
        while True:
            try:
                found.append(self._inbox.get_nowait())
            except queue.Empty:
                return found

    def close(self) -> None:
        self._stop.set()
        self._streamer.close()
        if self._polling is not None:
            self._polling.close()


@dataclass
class Tracker:
    """What is known of the operation's resources, from listings and events."""

    tree: StackTree
    action: str
    statuses: dict[tuple[str, str], str] = field(default_factory=dict)
    running: dict[tuple[str, str], float] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    events: int = 0
    stack_reasons: list[str] = field(default_factory=list)
    failed_events: dict[tuple[str, str], Event] = field(default_factory=dict)

    def listing(self, resources: list[Resource]) -> None:
        self.tree.add(as_listed(r) for r in resources)
        for res in resources:
            key = (res.stack_id, res.name)
            self.statuses[key] = res.status
            if res.status.endswith("_IN_PROGRESS"):
                self.running.setdefault(key, time.monotonic())
            else:
                self.running.pop(key, None)

    def event(self, event: Event) -> None:
        self.events += 1
        if event.is_stack_event:
            if event.stack_id == self.tree.root_id and event.status.endswith("_FAILED"):
                self.stack_reasons.append(event.reason)
            return
        key = (event.stack_id, event.resource_name)
        self.statuses[key] = event.status
        if event.status.endswith("_FAILED"):
            self.failed_events[key] = event
        if event.status.endswith("_IN_PROGRESS"):
            self.running[key] = time.monotonic()
        else:
            self.running.pop(key, None)

    def counts(self) -> tuple[int, int, int]:
        """(done, failed, total) for the current action."""
        done = failed = 0
        for status in self.statuses.values():
            if status.endswith("_FAILED"):
                failed += 1
            elif status == f"{self.action}_COMPLETE" or (
                self.action in ("UPDATE", "ROLLBACK")
                and status.endswith("_COMPLETE")
                and status != "INIT_COMPLETE"
            ):
                done += 1
        return done, failed, len(self.statuses)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def failed_resources(self) -> list[Resource]:
        """The resources that failed while the operation was followed, as events told
        (what a rollback deletes is no longer listed)."""
        nested = {parent: child for child, parent in self.tree.parents.items()}
        return [
            Resource(
                name=name,
                type="",
                status=event.status,
                reason=event.reason,
                physical_resource_id=event.physical_resource_id,
                stack_name=event.stack_name,
                stack_id=stack_id,
                nested_stack_id=nested.get((stack_id, name)),
            )
            for (stack_id, name), event in self.failed_events.items()
        ]


def event_line(tree: StackTree, event: Event) -> str:
    name = tree.path(event.stack_id) if event.is_stack_event else None
    where = name or tree.path(event.stack_id, event.resource_name)
    return f"{event.time} {where} {event.status} {event.reason}".rstrip()


class Display(Protocol):
    def event(self, line: str) -> None: ...
    def update(self, progress: Tracker) -> None: ...
    def stop(self) -> None: ...


class PlainDisplay:
    """One line per event, for pipes and files."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def event(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    def update(self, progress: Tracker) -> None:
        pass

    def stop(self) -> None:
        pass


class LiveDisplay:
    """Rich's live area on a terminal: a bar of resources done for the current action,
    what is in progress now and for how long, the elapsed time; events scroll above."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[extra]}"),
            console=console,
            auto_refresh=False,
        )
        self.task = self.bar.add_task("starting", total=None, extra="")
        self.running = Text("")
        self.live = Live(
            Group(self.bar, self.running), console=console, refresh_per_second=8, transient=True
        )
        self.live.start()

    def event(self, line: str) -> None:
        self.live.console.print(Text(line), soft_wrap=True)

    def update(self, progress: Tracker) -> None:
        done, failed, total = progress.counts()
        extra = f"{failed} failed  " if failed else ""
        self.bar.update(
            self.task,
            description=f"{progress.action} {progress.tree.root_name}",
            completed=done,
            total=max(total, 1),
            extra=f"{extra}{progress.elapsed():.1f}s elapsed",
        )
        now = time.monotonic()
        rows: list[RenderableType] = []
        for (stack_id, name), since in sorted(progress.running.items(), key=lambda kv: kv[1]):
            status = progress.statuses.get((stack_id, name), "")
            rows.append(
                Text(f"  {progress.tree.path(stack_id, name)}  {status}  {now - since:.1f}s")
            )
        self.live.update(Group(self.bar, *rows))

    def stop(self) -> None:
        self.live.stop()


@dataclass
class Failure:
    """A failed resource, the chain of its failed parents up to the root."""

    path: str
    status: str
    reason: str
    type: str
    depth: int
    parents: list[tuple[str, str, str]]  # (path, status, reason), nearest first

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "resource_status": self.status,
            "resource_status_reason": self.reason,
            "resource_type": self.type,
            "parents": [{"path": p, "status": s, "reason": r} for p, s, r in self.parents],
        }


def as_listed(res: Resource) -> Listed:
    return Listed(
        res.stack_id,
        res.stack_name,
        res.name,
        res.type,
        res.status,
        res.reason,
        res.nested_stack_id,
    )


def root_causes(
    client: Client, stack: Stack, followed: Tracker | None = None, reason: str = ""
) -> list[Failure]:
    """The deepest failed resources of a stack tree first (those with no failed resource
    below them), each with its path and failed parents, from listings with nested_depth
    and, below what those reach, each failed nested stack's own listing; when nothing
    listed has failed (a rollback deleted it), from the failures ``followed`` saw."""
    tree = followed.tree if followed else StackTree(stack.id, stack.name)
    listed = client.resources(f"{stack.name}/{stack.id}", nested_depth=NESTED_DEPTH)
    seen_stacks = {r.stack_id for r in listed}
    todo = [r for r in listed if r.status.endswith("_FAILED") and r.nested_stack_id]
    while todo:
        res = todo.pop()
        nested = res.nested_stack_id
        if not nested or nested in seen_stacks:
            continue
        seen_stacks.add(nested)
        try:
            more = client.resources(nested, nested_depth=NESTED_DEPTH)
        except NotFound:
            continue
        seen_stacks.update(r.stack_id for r in more)
        listed.extend(more)
        todo.extend(r for r in more if r.status.endswith("_FAILED") and r.nested_stack_id)
    if followed and not any(r.status.endswith("_FAILED") for r in listed):
        tree.add(as_listed(r) for r in listed)
        listed = followed.failed_resources()
    causes = common_root_causes(
        tree, [as_listed(r) for r in listed], stack.status, reason or stack.reason
    )
    return [
        Failure(
            c.path,
            c.resource.status,
            c.resource.reason,
            c.resource.type,
            c.depth,
            [(p.path, p.status, p.reason) for p in c.parents],
        )
        for c in causes
    ]


@dataclass
class Outcome:
    stack: Stack | None  # None: deleted
    action: str
    exit_code: int
    duration: float
    done: int
    failed: int
    total: int
    events: int
    failures: list[Failure] = field(default_factory=list)
    reason: str = ""  # why it failed, when the stack's own reason has moved on


def _exit_code(stack: Stack | None, action: str, reasons: list[str]) -> int:
    if stack is None:
        return EXIT_COMPLETE if action == "DELETE" else EXIT_FAILED
    texts = [stack.reason, *reasons]
    if any("Timed out" in t or "cancelled" in t.lower() for t in texts):
        return EXIT_TIMEOUT
    if stack.status == f"{action}_COMPLETE":
        return EXIT_COMPLETE
    return EXIT_FAILED


def _finished(stack: Stack, action: str) -> bool:
    if stack.in_progress:
        return False
    return stack.action in (action, "ROLLBACK")


def follow(
    client: Client,
    stack: str,
    action: str,
    display: Display,
    source: EventSource,
    *,
    started: float | None = None,
) -> Outcome:
    """Wait for the stack's ``action`` (``CREATE``, ``UPDATE``, ``DELETE``) to end,
    showing its events and progress; the outcome with the root causes of a failure."""
    found = client.show_stack(stack, resolve_outputs=False)
    tree = StackTree(found.id, found.name)
    progress = Tracker(tree, action, started=started or time.monotonic())
    last_refresh = 0.0
    failed_at: float | None = None
    current: Stack | None = found
    try:
        while True:
            events = source.next()
            unknown = any(not tree.knows(e.stack_id) for e in events)
            now = time.monotonic()
            root_event = any(e.is_stack_event and e.stack_id == found.id for e in events)
            if unknown or root_event or now - last_refresh >= REFRESH_INTERVAL:
                last_refresh = now
                try:
                    progress.listing(client.resources(stack, nested_depth=NESTED_DEPTH))
                    current = client.show_stack(stack, resolve_outputs=False)
                except NotFound:
                    current = None
            for event in events:
                progress.event(event)
                display.event(event_line(tree, event))
            if current is not None:
                progress.action = current.action
            display.update(progress)
            if current is None or (current.status == "DELETE_COMPLETE" and action == "DELETE"):
                break
            if _finished(current, action):
                rolls_back = (
                    current.status == f"{action}_FAILED"
                    and action in ("CREATE", "UPDATE")
                    and not current.disable_rollback
                )
                if not rolls_back:
                    break
                failed_at = failed_at or now
                if now - failed_at > ROLLBACK_GRACE:
                    break
        for event in source.next():
            progress.event(event)
            display.event(event_line(tree, event))
    finally:
        display.stop()
        source.close()
    final: Stack | None = None  # gone
    if current is not None and current.status != "DELETE_COMPLETE":
        final = client.show_stack(stack)
    done, failed, total = progress.counts()
    outcome = Outcome(
        final,
        action,
        _exit_code(final, action, progress.stack_reasons),
        progress.elapsed(),
        done,
        failed,
        total,
        progress.events,
    )
    if outcome.stack is not None and outcome.exit_code != EXIT_COMPLETE:
        outcome.reason = (
            progress.stack_reasons[-1]
            if progress.stack_reasons and not outcome.stack.status.endswith("_FAILED")
            else outcome.stack.reason
        )
        outcome.failures = root_causes(client, outcome.stack, progress, outcome.reason)
    return outcome


def render_failures(failures: list[Failure], out: Console) -> None:
    if not failures:
        return
    out.print(Text("Root cause (deepest failures first):", style="bold red"))
    for failure in failures:
        out.print(Text(f"  {failure.path}  {failure.status}", style="bold"))
        out.print(Text(f"    {failure.reason}"))
        for path, status, reason in failure.parents:
            out.print(Text(f"    in {path}  {status}  {reason}".rstrip(), style="dim"))


def render_summary(outcome: Outcome, name: str, out: Console) -> None:
    stack = outcome.stack
    status = stack.status if stack else f"{outcome.action}_COMPLETE"
    counts = f"{outcome.done}/{outcome.total} resources done"
    if outcome.failed:
        counts += f", {outcome.failed} failed"
    out.print(
        Text(f"Stack {name} {status} in {outcome.duration:.1f}s: {counts}, {outcome.events} events")
    )
    reason = outcome.reason or (stack.reason if stack else "")
    if reason and outcome.exit_code != EXIT_COMPLETE:
        out.print(Text(f"Reason: {reason}"))
    if stack and outcome.exit_code == EXIT_COMPLETE and stack.outputs:
        table = Table("output", "value", title=None, box=None, show_edge=False)
        for item in stack.outputs:
            value = item.get("output_value")
            if "output_error" in item:
                value = f"error: {item['output_error']}"
            table.add_row(str(item.get("output_key")), str(value))
        out.print(Text("Outputs:"))
        out.print(table)
