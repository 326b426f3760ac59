"""Freeing an autograd graph from its outputs down, one node at a time, so nothing recurses.

Once Python has seen an autograd node (every node a capture walks, every result's grad_fn), the
node keeps its Python object for as long as it lives, and it is freed through that object: the
object's deallocator runs the node's destructor, which lets go of the node's inputs, whose
objects are freed the same way, a few C stack frames per node. A chain tens of thousands of
nodes long overflows the C stack (SIGSEGV). PyTorch frees a chain of nodes Python never saw
without recursion; for the others, this module holds every node and lets go of them consumers
first, so that each node is freed while its inputs are still held: every free is one node deep.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch.autograd.graph import Node


def consumers_first(roots: Iterable[Node | None], closed: Iterable[Node] = ()) -> list[Node]:
    """Every node reachable from roots, and every node of closed, each before all it reaches.

    closed: nodes already walked (a capture's), every node they reach among them: they are
    not walked again. A node is made after its inputs, so it has the larger sequence number:
    in that order, largest first, each node comes before its inputs (a leaf's AccumulateGrad,
    which numbers itself 2**64 - 1, comes last). The numbers count per thread; a graph built
    across threads may be out of order in places, and each such place costs one frame more
    when it is freed, not a crash.
    """
    nodes = list(dict.fromkeys(closed))
    seen = set(nodes)
    stack = [root for root in roots if root is not None]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        nodes.append(node)
        stack.extend(child for child, _ in node.next_functions if child is not None)
    nodes.sort(key=_sequence_nr, reverse=True)
    return nodes


def _sequence_nr(node: Node) -> int:
    number = node._sequence_nr()
    return number if number < 2**63 else -1  # a leaf: it has no inputs, so it goes last


def let_go(nodes: list[Node | None]) -> None:
    """Drop nodes front to back: with consumers first, each is freed with its inputs held.

    The caller must hold no other reference to the graph's outputs, or they outlive this.
    """
    for index in range(len(nodes)):
        nodes[index] = None


def tensors_in(value: Any, limit: int = 1_000_000) -> list[torch.Tensor]:
    """The tensors in value and in the lists, tuples and dicts nested in it (at most limit)."""
    found: list[torch.Tensor] = []
    stack = [value]
    looked = 0
    while stack and looked < limit:
        item = stack.pop()
        looked += 1
        if isinstance(item, torch.Tensor):
            found.append(item)
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return found


def graph_roots(tensors: Iterable[torch.Tensor]) -> list[Node]:
    """The grad_fn of every tensor that has one."""
    return [tensor.grad_fn for tensor in tensors if tensor.grad_fn is not None]
