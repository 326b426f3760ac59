"""Limits on what a script may allocate or run, checked before the work is done."""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field

from explorer.data.snapshot import MAX_DRAWN_NODES
from explorer.lang.errors import LimitError, ScriptError


@dataclass
class Limits:
    max_source_chars: int = 200_000
    max_lines: int = 5_000
    max_depth: int = 100  # nesting of expressions and blocks
    max_elements: int = 20_000_000  # elements in one tensor
    max_total_bytes: int = 4 * 2**30  # bytes of all tensors a script creates
    max_parameters: int = 50_000_000  # parameters of one module
    max_iterations: int = 100_000  # loop iterations in a whole run
    max_python_items: int = 1_000_000  # items in a Python list a script builds
    max_total_items: int = 10_000_000  # items of all the lists a run builds
    max_tensor_list: int = 10_000  # tensors in one list passed to torch (cat, stack)
    max_graph_ops: int = 25_000  # results with a grad_fn the script makes itself
    max_modules: int = 1_000  # layers inside one module
    # Steps of one call whose time its sizes do not bound: a matrix decomposition (svd, eig,
    # inv, qr...: batch x rows x columns x min(rows, columns), about a 1,260 x 1,260 matrix)
    # or a recurrent layer (time steps x batch x parameters); a second or two each
    max_call_steps: int = 2 * 10**9
    max_int_bits: int = 256  # size of Python integers
    max_string: int = 1_000  # characters in a string literal
    max_built_string: int = 10_000  # characters in a string a script builds (+, *, join...)
    max_outputs: int = 5_000  # displayed values and prints
    max_output_chars: int = 1_000_000
    # autograd nodes (ops and leaves) in the graph a run shows: a module call or a builtin
    # makes many nodes for one operation, and larger graphs cannot be drawn or read
    max_graph_nodes: int = MAX_DRAWN_NODES
    max_nesting: int = 32  # lists inside lists, as torch, print or str would walk them
    max_passes: int = 5_000  # backward passes recorded in one run (a 2,000-step tutorial loop)
    max_call_depth: int = 50  # script functions running one inside another (recursion)
    seconds: float = field(default_factory=lambda: _from_environment("EXPLORER_SECONDS", 60.0))
    # How long one call may run past `seconds` before the worker or the command line ends
    # itself with the timeout problem (explorer/lang/watchdog.py).
    grace_seconds: float = field(
        default_factory=lambda: _from_environment("EXPLORER_GRACE_SECONDS", 10.0)
    )


@dataclass
class Budget:
    """What a run has used so far of its limits."""

    limits: Limits
    iterations: int = 0
    tensor_bytes: int = 0
    items: int = 0
    graph_ops: int = 0
    passes: int = 0
    deadline: float = field(default=0.0)
    # What a layer's call makes, worked out on the meta device, by its inputs (calls.py).
    meta_sizes: dict[object, tuple[int, tuple[int, ...]]] = field(default_factory=dict)

    def start(self) -> None:
        self.deadline = time.monotonic() + self.limits.seconds

    def tick(self) -> None:
        if self.deadline and time.monotonic() > self.deadline:
            raise self.time_up()

    def time_up(self) -> ScriptError:
        """The error of a run stopped at its time limit, between statements or inside one."""
        return LimitError(
            f"the script ran longer than {self.limits.seconds:g} seconds and was stopped",
            hint="make loops shorter or tensors smaller",
        )

    def iterate(self, count: int = 1) -> None:
        self.iterations += count
        if self.iterations > self.limits.max_iterations:
            raise LimitError(
                f"loops ran more than {self.limits.max_iterations:,} iterations in total",
                hint="use fewer iterations",
            )

    def check_loop_length(self, length: int) -> None:
        if self.iterations + length > self.limits.max_iterations:
            raise LimitError(
                f"this loop would run {length:,} iterations; a script may run at most "
                f"{self.limits.max_iterations:,} in total",
                hint="use a smaller range",
            )

    def check_elements(self, shape: tuple[int, ...] | list[int], what: str = "tensor") -> None:
        numel = math.prod(shape)
        if numel > self.limits.max_elements:
            raise LimitError(
                f"this {what} would have {numel:,} elements (shape {tuple(shape)}); "
                f"the limit is {self.limits.max_elements:,}",
                hint="use a smaller shape",
            )

    def charge_bytes(self, nbytes: int) -> None:
        self.tensor_bytes += nbytes
        if self.tensor_bytes > self.limits.max_total_bytes:
            raise LimitError(
                f"the script created more than {self.limits.max_total_bytes / 2**30:g} GiB "
                "of tensors",
                hint="use smaller tensors or fewer iterations",
            )

    def check_string(self, length: int) -> None:
        """Refuse a string the script would build, from its length, before it is built."""
        if length > self.limits.max_built_string:
            raise LimitError(
                f"this string is too long: {length:,} characters; the limit is "
                f"{self.limits.max_built_string:,}",
            )

    def check_parameters(self, count: int) -> None:
        if count > self.limits.max_parameters:
            raise LimitError(
                f"this layer would have {count:,} parameters; the limit is "
                f"{self.limits.max_parameters:,}",
                hint="use smaller layer sizes",
            )

    def check_items(self, count: int) -> None:
        if count > self.limits.max_python_items:
            raise LimitError(
                f"this would make {count:,} Python items; the limit is "
                f"{self.limits.max_python_items:,}",
            )

    def charge_items(self, count: int) -> None:
        """Count the items of a new list against the run's total."""
        self.check_items(count)
        self.items += count
        if self.items > self.limits.max_total_items:
            raise LimitError(
                f"the script built lists of more than {self.limits.max_total_items:,} items in all",
                hint="use tensors for large collections of numbers",
            )

    def check_nested(self, value: object, what: str = "this value") -> None:
        """Refuse lists nested so deep or wide that reading them all would take too long."""
        limit = self.limits.max_python_items
        count, depth = nested_size(value, limit, self.limits.max_nesting)
        if count > limit:
            raise LimitError(
                f"{what} holds more than {limit:,} items in nested lists",
                hint="use a tensor instead of nested lists",
            )
        if depth > self.limits.max_nesting:
            raise LimitError(
                f"{what} nests lists more than {self.limits.max_nesting} deep",
                hint="use fewer levels of lists inside lists",
            )

    def count_graph_op(self) -> None:
        self.graph_ops += 1
        if self.graph_ops > self.limits.max_graph_ops:
            raise LimitError(
                f"the script made more than {self.limits.max_graph_ops:,} operations that "
                "need gradients",
                hint="use fewer loop iterations, or whole-tensor operations instead of loops",
            )

    def charge_graph_ops(self, count: int) -> None:
        """Count graph operations a call will make, before it makes them."""
        if count > 0:
            self.graph_ops += count - 1
            self.count_graph_op()

    def count_pass(self) -> None:
        """Each recorded backward pass keeps its steps' gradients: a run records a bounded few."""
        self.passes += 1
        if self.passes > self.limits.max_passes:
            raise LimitError(
                f"the script ran more than {self.limits.max_passes:,} backward passes",
                hint="call backward fewer times, for instance once after the loop",
            )

    def check_modules(self, count: int) -> None:
        if count > self.limits.max_modules:
            raise LimitError(
                f"this model would have {count:,} layers; the limit is {self.limits.max_modules:,}",
                hint="use fewer layers",
            )

    def check_int(self, value: int) -> int:
        if value.bit_length() > self.limits.max_int_bits:
            raise LimitError(
                f"integer too large (more than {self.limits.max_int_bits} bits)",
                hint="use a float, such as 1e30, for large numbers",
            )
        return value

    def check_int_power(self, base: int, exponent: int) -> None:
        if exponent < 0 or abs(base) < 2:
            return
        bits = exponent * math.log2(abs(base))
        if bits > self.limits.max_int_bits:
            raise LimitError(
                f"{base} ** {exponent} is too large an integer",
                hint="use a float base, such as 10.0 ** 30",
            )


# What holds other values: dicts by their keys and values, walked as lists are.
_CONTAINERS = (
    list,
    tuple,
    dict,
    set,
    frozenset,
    type({}.keys()),
    type({}.values()),
    type({}.items()),
)


def nested_count(value: object, limit: int) -> int:
    """Items in nested lists and tuples, counting shared ones each time; stops past limit."""
    return nested_size(value, limit)[0]


def nested_size(value: object, limit: int, depth_limit: int = 2**31) -> tuple[int, int]:
    """Items in nested lists, tuples, dicts and sets (as nested_count) and how deep they
    nest; the walk stops past either limit, so a list that holds itself ends it too."""
    count = depth = 0
    stack = [(value, 1)]
    while stack and count <= limit and depth <= depth_limit:
        item, level = stack.pop()
        if isinstance(item, _CONTAINERS):
            count += len(item)
            depth = max(depth, level)
            if count <= limit:
                inner = [*item.keys(), *item.values()] if isinstance(item, dict) else item
                stack.extend((v, level + 1) for v in inner if isinstance(v, _CONTAINERS))
    return count, depth


def _from_environment(name: str, default: float) -> float:
    """A time limit set for this process and the ones it starts, such as the worker.

    EXPLORER_SECONDS and EXPLORER_GRACE_SECONDS exist so that tests of the time limit need
    not wait a minute; unset or not a positive number, the default holds.
    """
    try:
        value = float(os.environ.get(name, ""))
    except ValueError:
        return default
    return value if 0 < value < math.inf else default
