"""What the stepper says at each step, worded once for the window and the HTML stepper."""

from __future__ import annotations

from explorer.data.nodes import GraphNode
from explorer.view import labels

NO_PASS = "No backward pass yet: press Backward"


def before(count: int) -> str:
    """Before a pass's first step."""
    return f"Before the first of {count} steps"


def step(attrs: GraphNode, index: int, count: int) -> str:
    """`Step 2 of 5: y = mul runs MulBackward0`, or a leaf's `accumulates into .grad`."""
    verb = "accumulates into .grad" if attrs.kind == "leaf" else f"runs {attrs.op}"
    return f"Step {index + 1} of {count}: {labels.node_title(attrs)} {verb}"


# Over an empty graph: a script with no tensor that requires grad records nothing.
EMPTY_GRAPH = (
    "No graph: nothing in this script requires grad, so PyTorch recorded no operations.\n"
    "Make a tensor with requires_grad=True, for example\n"
    "x = torch.full((2,3), 4., requires_grad=True), and compute outside torch.no_grad().\n"
    "A file that defines model and example_input opens with File → Open Model File."
)
