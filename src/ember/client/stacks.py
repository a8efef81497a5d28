"""The stack calls of the REST API, answering typed records."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from ember.client import errors
from ember.client.session import Session


def _link(item: dict[str, Any], rel: str) -> str | None:
    for link in item.get("links") or ():
        if link.get("rel") == rel:
            return str(link.get("href"))
    return None


def _stack_of(href: str | None) -> tuple[str, str]:
    """``(name, id)`` from a ``.../stacks/<name>/<id>[/...]`` link."""
    if not href:
        return "", ""
    parts = urlsplit(href).path.split("/")
    try:
        at = parts.index("stacks")
    except ValueError:
        return "", ""
    rest = parts[at + 1 :]
    if len(rest) >= 2:
        return rest[0], rest[1]
    return "", rest[0] if rest else ""


@dataclass(frozen=True)
class Stack:
    id: str
    name: str
    status: str
    reason: str = ""
    creation_time: str | None = None
    updated_time: str | None = None
    timeout_mins: int | None = None
    disable_rollback: bool = True
    outputs: list[dict[str, Any]] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def action(self) -> str:
        """``CREATE`` of ``CREATE_IN_PROGRESS``, ``ROLLBACK`` of ``ROLLBACK_FAILED``."""
        for suffix in ("_IN_PROGRESS", "_COMPLETE", "_FAILED"):
            if self.status.endswith(suffix):
                return self.status.removesuffix(suffix)
        return self.status

    @property
    def in_progress(self) -> bool:
        return self.status.endswith("_IN_PROGRESS")

    @classmethod
    def from_api(cls, item: dict[str, Any]) -> Stack:
        return cls(
            id=str(item.get("id", "")),
            name=str(item.get("stack_name", "")),
            status=str(item.get("stack_status") or ""),
            reason=str(item.get("stack_status_reason") or ""),
            creation_time=item.get("creation_time"),
            updated_time=item.get("updated_time"),
            timeout_mins=item.get("timeout_mins"),
            disable_rollback=bool(item.get("disable_rollback", True)),
            outputs=list(item.get("outputs") or []),
            parameters=dict(item.get("parameters") or {}),
            raw=item,
        )


@dataclass(frozen=True)
class Event:
    id: str
    time: str
    resource_name: str
    physical_resource_id: str
    status: str
    reason: str
    stack_name: str
    stack_id: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def is_stack_event(self) -> bool:
        """An event of a stack itself (its name and id), not of one of its resources."""
        return self.physical_resource_id == self.stack_id and self.resource_name == self.stack_name

    @classmethod
    def from_api(cls, item: dict[str, Any]) -> Event:
        name, sid = _stack_of(_link(item, "stack"))
        return cls(
            id=str(item.get("id", "")),
            time=str(item.get("event_time") or ""),
            resource_name=str(item.get("resource_name") or item.get("logical_resource_id") or ""),
            physical_resource_id=str(item.get("physical_resource_id") or ""),
            status=str(item.get("resource_status") or ""),
            reason=str(item.get("resource_status_reason") or ""),
            stack_name=name,
            stack_id=sid,
            raw=item,
        )


@dataclass(frozen=True)
class Resource:
    name: str
    type: str
    status: str
    reason: str
    physical_resource_id: str
    stack_name: str
    stack_id: str
    nested_stack_id: str | None = None
    parent_resource: str | None = None
    updated_time: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_api(cls, item: dict[str, Any]) -> Resource:
        name, sid = _stack_of(_link(item, "stack"))
        nested = _stack_of(_link(item, "nested"))[1] or None
        return cls(
            name=str(item.get("resource_name") or ""),
            type=str(item.get("resource_type") or ""),
            status=str(item.get("resource_status") or ""),
            reason=str(item.get("resource_status_reason") or ""),
            physical_resource_id=str(item.get("physical_resource_id") or ""),
            stack_name=name,
            stack_id=sid,
            nested_stack_id=nested,
            parent_resource=item.get("parent_resource"),
            updated_time=item.get("updated_time"),
            raw=item,
        )


def _body(
    *,
    template: str | dict[str, Any] | None,
    files: dict[str, str] | None,
    environment: dict[str, Any] | None,
    environment_files: list[str] | None,
    parameters: dict[str, str] | None,
    timeout_mins: int | None,
    disable_rollback: bool | None,
    tags: list[str] | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if template is not None:
        body["template"] = template
    if files:
        body["files"] = files
    if environment:
        body["environment"] = environment
    if environment_files:
        body["environment_files"] = environment_files
    if parameters:
        body["parameters"] = parameters
    if timeout_mins is not None:
        body["timeout_mins"] = timeout_mins
    if disable_rollback is not None:
        body["disable_rollback"] = disable_rollback
    if tags:
        body["tags"] = ",".join(tags)
    return body


# The server says something at least every 15 s (a keepalive) on an event stream.
STREAM_READ_TIMEOUT = 60.0


class Client:
    """The REST API of one project. Stacks are named by name, id or ``name/id``."""

    def __init__(self, session: Session, http: httpx.Client | None = None) -> None:
        self.session = session
        self._http = http or session.http()
        self._identities: dict[str, str] = {}

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            answer = self._http.request(method, path.lstrip("/"), **kwargs)
        except httpx.HTTPError as exc:
            raise errors.ConnectionFailed(
                0, "ConnectionFailed", f"{self.session.endpoint}: {exc}"
            ) from exc
        if answer.status_code >= 400:
            raise errors.from_answer(answer.status_code, answer.content)
        return answer

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.request(method, path, **kwargs)
        return answer.json() if answer.content else None

    def identify(self, stack: str) -> str:
        """``name/id`` of a stack named by name, id or ``name/id``."""
        if stack.count("/") == 1:
            return stack
        if stack not in self._identities:
            found = self.show_stack(stack, resolve_outputs=False)
            self._identities[stack] = f"{found.name}/{found.id}"
        return self._identities[stack]

    def _stack_path(self, stack: str, sub: str = "") -> str:
        name, _, sid = self.identify(stack).partition("/")
        path = f"stacks/{quote(name, safe='')}/{sid}"
        return f"{path}/{sub}" if sub else path

    # -- stacks

    def list_stacks(self, **query: Any) -> list[Stack]:
        items = self._json("GET", "stacks", params=query)["stacks"]
        return [Stack.from_api(item) for item in items]

    def show_stack(self, stack: str, *, resolve_outputs: bool = True) -> Stack:
        path = f"stacks/{stack}" if stack.count("/") == 1 else f"stacks/{quote(stack, safe='')}"
        params = {} if resolve_outputs else {"resolve_outputs": "false"}
        return Stack.from_api(self._json("GET", path, params=params)["stack"])

    def create_stack(
        self,
        name: str,
        template: str | dict[str, Any],
        *,
        files: dict[str, str] | None = None,
        environment: dict[str, Any] | None = None,
        environment_files: list[str] | None = None,
        parameters: dict[str, str] | None = None,
        timeout_mins: int | None = None,
        disable_rollback: bool = True,
        tags: list[str] | None = None,
    ) -> str:
        """Start creating a stack; its ``name/id``."""
        body = {
            "stack_name": name,
            **_body(
                template=template,
                files=files,
                environment=environment,
                environment_files=environment_files,
                parameters=parameters,
                timeout_mins=timeout_mins,
                disable_rollback=disable_rollback,
                tags=tags,
            ),
        }
        created = self._json("POST", "stacks", json=body)["stack"]
        identity = f"{name}/{created['id']}"
        self._identities[name] = identity
        return identity

    def update_stack(
        self,
        stack: str,
        template: str | dict[str, Any] | None = None,
        *,
        existing: bool = False,
        files: dict[str, str] | None = None,
        environment: dict[str, Any] | None = None,
        environment_files: list[str] | None = None,
        parameters: dict[str, str] | None = None,
        timeout_mins: int | None = None,
        disable_rollback: bool | None = None,
        tags: list[str] | None = None,
    ) -> None:
        """Start updating a stack (``existing``: a PATCH keeping what is not sent)."""
        body = _body(
            template=template,
            files=files,
            environment=environment,
            environment_files=environment_files,
            parameters=parameters,
            timeout_mins=timeout_mins,
            disable_rollback=disable_rollback,
            tags=tags,
        )
        self.request("PATCH" if existing else "PUT", self._stack_path(stack), json=body)

    def preview_stack(
        self,
        name: str,
        template: str | dict[str, Any],
        *,
        files: dict[str, str] | None = None,
        environment: dict[str, Any] | None = None,
        environment_files: list[str] | None = None,
        parameters: dict[str, str] | None = None,
        timeout_mins: int | None = None,
        disable_rollback: bool = True,
    ) -> dict[str, Any]:
        """What creating the stack would make, without making it."""
        body = {
            "stack_name": name,
            **_body(
                template=template,
                files=files,
                environment=environment,
                environment_files=environment_files,
                parameters=parameters,
                timeout_mins=timeout_mins,
                disable_rollback=disable_rollback,
                tags=None,
            ),
        }
        return dict(self._json("POST", "stacks/preview", json=body)["stack"])

    def delete_stack(self, stack: str) -> None:
        self.request("DELETE", self._stack_path(stack))

    def cancel_update(self, stack: str, *, rollback: bool = True) -> None:
        """Cancel the stack's running create or update (``cancel_update`` rolls back,
        ``cancel_without_rollback`` does not)."""
        action = "cancel_update" if rollback else "cancel_without_rollback"
        self.request("POST", self._stack_path(stack, "actions"), json={action: None})

    def template(self, stack: str) -> dict[str, Any]:
        return dict(self._json("GET", self._stack_path(stack, "template")))

    def outputs(self, stack: str) -> list[dict[str, Any]]:
        """The stack's outputs, resolved: ``output_key``, ``output_value``,
        ``description`` and, for one that failed, ``output_error``."""
        return list(self.show_stack(self.identify(stack)).outputs)

    # -- events and resources

    def events(
        self,
        stack: str,
        *,
        marker: str | None = None,
        limit: int | None = None,
        nested_depth: int | None = None,
        sort_dir: str | None = None,
        resource_name: str | None = None,
    ) -> list[Event]:
        params: dict[str, Any] = {}
        if marker:
            params["marker"] = marker
        if limit is not None:
            params["limit"] = limit
        if nested_depth:
            params["nested_depth"] = nested_depth
        if sort_dir:
            params["sort_dir"] = sort_dir
        if resource_name:
            params["resource_name"] = resource_name
        items = self._json("GET", self._stack_path(stack, "events"), params=params)["events"]
        return [Event.from_api(item) for item in items]

    def stream_events(self, stack: str, *, last_event_id: str | None = None) -> Iterator[Event]:
        """The stack's events (its nested stacks' too) as Ember pushes them
        (``.../events/stream``): those after ``last_event_id`` (all, without one), then
        each as it is committed, until the server ends the stream. An extension: a service
        without it answers ``NotFound``."""
        headers = {"Accept": "text/event-stream"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        path = self._stack_path(stack, "events/stream").lstrip("/")
        timeout = httpx.Timeout(STREAM_READ_TIMEOUT, connect=self.session.timeout)
        try:
            with self._http.stream("GET", path, headers=headers, timeout=timeout) as answer:
                if answer.status_code >= 400:
                    raise errors.from_answer(answer.status_code, answer.read())
                data: list[str] = []
                for line in answer.iter_lines():
                    if line.startswith("data:"):
                        data.append(line[5:].removeprefix(" "))
                    elif not line and data:
                        yield Event.from_api(json.loads("\n".join(data)))
                        data = []
        except httpx.HTTPError as exc:
            raise errors.ConnectionFailed(
                0, "ConnectionFailed", f"{self.session.endpoint}: {exc}"
            ) from exc

    def resources(self, stack: str, *, nested_depth: int | None = None) -> list[Resource]:
        params = {"nested_depth": nested_depth} if nested_depth else {}
        items = self._json("GET", self._stack_path(stack, "resources"), params=params)
        return [Resource.from_api(item) for item in items["resources"]]
