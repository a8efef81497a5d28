"""A stack as a picture: its resources and their dependencies, coloured by status, each
nested stack a cluster inside the resource that owns it. Built with Graphviz (DOT), drawn
by its ``dot`` as SVG or PNG."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import graphviz

from ember.client import Resource

# Fill colours by how a resource's status ends.
COLOURS = {
    "COMPLETE": "#9be59b",
    "FAILED": "#f28b82",
    "IN_PROGRESS": "#fdd663",
}
UNKNOWN = "#dadce0"  # INIT, or a status of no kind above
NESTED_EDGE = {"style": "dashed", "arrowhead": "none"}


def colour(status: str) -> str:
    for ending, fill in COLOURS.items():
        if status.endswith(ending):
            return fill
    return UNKNOWN


def node_id(resource: Resource) -> str:
    return f"{resource.stack_id}/{resource.name}"


def stack_graph(stack_name: str, stack_id: str, resources: Sequence[Resource]) -> graphviz.Digraph:
    """The graph of a stack from its resources listed with their nested stacks'
    (``nested_depth``). An edge goes from a resource to each one that requires it: the
    order the resources are created in."""
    by_stack: dict[str, list[Resource]] = defaultdict(list)
    for resource in resources:
        by_stack[resource.stack_id].append(resource)
    owner = {r.nested_stack_id: r for r in resources if r.nested_stack_id}
    graph = graphviz.Digraph(
        name=stack_name,
        graph_attr={"label": f"{stack_name}", "labelloc": "t", "compound": "true"},
        node_attr={"shape": "box", "style": "rounded,filled", "fontname": "Helvetica"},
    )

    def draw(target: graphviz.Digraph, sid: str) -> None:
        for resource in by_stack.get(sid, []):
            target.node(
                node_id(resource),
                label=f"{resource.name}\n{resource.type}\n{resource.status}",
                fillcolor=colour(resource.status),
                tooltip=resource.reason or resource.status,
            )
            if resource.nested_stack_id and resource.nested_stack_id in by_stack:
                with target.subgraph(name=f"cluster_{resource.nested_stack_id}") as cluster:
                    cluster.attr(label=f"{resource.name}: {resource.type}", style="dashed")
                    draw(cluster, resource.nested_stack_id)
        for resource in by_stack.get(sid, []):
            for dependent in resource.raw.get("required_by") or ():
                target.edge(node_id(resource), f"{sid}/{dependent}")

    draw(graph, stack_id)
    # A nested stack's resources hang from the resource that owns it.
    for sid, members in by_stack.items():
        parent = owner.get(sid)
        if parent is None or not members:
            continue
        graph.edge(node_id(parent), node_id(members[0]), lhead=f"cluster_{sid}", **NESTED_EDGE)
    return graph
