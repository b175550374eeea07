"""One set of int8 ranges for a layer that a graph applies several times.

A network may run the same module on several parts of a tensor one after another (LUT-distill's LUT MLP
runs on the lattice in passes, so that a runtime holds one pass's activations at a time). PT2E's
``prepare_pt2e`` gives every call of the module its own observers, so each pass would be calibrated on its
own slice of the data and get its own, narrower, int8 ranges: a model that is one function would quantize
as several, and inputs the calibration did not show for one slice would clip there.
:func:`share_call_observers` makes the observers of the same position in every call of a module one
observer, so every call gets the ranges of all of them, as the unsplit layer would.

A node's calls are told apart by ``torch.export``'s ``nn_module_stack``: the second call of ``mlp`` is
``...mlp@1``. Weight observers are left alone (a shared weight gets the same ranges anyway).
"""

from __future__ import annotations

from collections import Counter, defaultdict

import torch

OBSERVER_PREFIX = "activation_post_process_"


def _stack(node: torch.fx.Node) -> tuple[str, ...]:
    return tuple(node.meta.get("nn_module_stack", {}).keys())


def _canonical(stack: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(key.split("@")[0] for key in stack)


def share_call_observers(prepared: torch.fx.GraphModule) -> int:
    """Alias the observers of repeated module calls (see the module docstring); how many were merged."""
    nodes = list(prepared.graph.nodes)
    calls: dict[tuple[str, ...], set[tuple[str, ...]]] = defaultdict(set)
    for node in nodes:
        stack = _stack(node)
        if stack:
            calls[_canonical(stack)].add(stack)
    repeated = {canonical for canonical, stacks in calls.items() if len(stacks) > 1}
    if not repeated:
        return 0
    groups: dict[tuple, list[torch.fx.Node]] = defaultdict(list)
    ordinals: Counter = Counter()
    for node in nodes:
        if node.op != "call_module" or not str(node.target).startswith(OBSERVER_PREFIX):
            continue
        source = node.args[0]
        if not isinstance(source, torch.fx.Node) or source.op == "get_attr":
            continue  # a weight
        if _canonical(_stack(source)) in repeated:  # the output of an op inside a repeated call
            anchor, role = source, "output"
        else:  # the input of an op inside a repeated call (its producer is outside)
            users = [user for user in node.users if _canonical(_stack(user)) in repeated]
            if not users:
                continue
            anchor, role = users[0], "input"
        identity = (_stack(anchor), str(anchor.target), role)
        groups[(_canonical(_stack(anchor)), str(anchor.target), role, ordinals[identity])].append(node)
        ordinals[identity] += 1
    merged = 0
    for members in groups.values():
        first = getattr(prepared, str(members[0].target))
        for observer in members[1:]:
            setattr(prepared, str(observer.target), first)
            merged += 1
    return merged
