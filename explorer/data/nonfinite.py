"""Why a gradient first became NaN or infinite, in words, for the common causes: said where
the pass is recorded, where every saved tensor is at hand."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from explorer.data.health import FirstNonFinite, is_finite
from explorer.data.nodes import AutogradGraph, GraphNode
from explorer.data.snapshot import TensorSummary

WHERE_TRAP = (
    "This is the torch.where trap: where(mask, f(x), 0) still computes the gradient of f "
    "where the mask is False and multiplies it by 0, and 0 × ∞ is NaN. Make the input safe "
    "before the op, e.g. torch.sqrt(torch.clamp(x, min=1e-12)), or f(torch.where(mask, x, 1.))."
)
ROOT = (
    "The pass started from a gradient that already held NaN or infinity: it came in with the "
    "root's gradient (what backward was given), not from any op."
)
OLD_GRAD = (
    "This leaf's .grad already held NaN or infinity before this pass added to it: an earlier "
    "pass put it there. Clear it between passes (optimizer.zero_grad(), or x.grad = None)."
)


def _values(summary: object) -> np.ndarray | None:
    if isinstance(summary, TensorSummary) and summary.values is not None:
        return np.asarray(summary.values, dtype=float).reshape(-1)
    return None


def _has(summary: object, test: Callable[[np.ndarray], np.ndarray]) -> bool | None:
    """Whether some value passes test; None when the values were not kept."""
    values = _values(summary)
    return None if values is None else bool(test(values).any())


def _at(saved: dict, name: str, test: Callable[[np.ndarray], np.ndarray]) -> bool | None:
    return _has(saved.get(name), test)


def _zero(v: np.ndarray) -> np.ndarray:
    return v == 0


def _unit(v: np.ndarray) -> np.ndarray:
    return np.abs(v) == 1


def _cause(attrs: GraphNode) -> str | None:
    """The op's own reason for an infinite slope, when its saved values show it."""
    op, saved = attrs.op or "", attrs.saved or {}
    if op in ("SqrtBackward0", "RsqrtBackward0"):
        if _at(saved, "result", _zero) or _at(saved, "self", _zero):
            return "sqrt at 0: its slope 1/(2√x) is infinite there."
    elif op in ("LogBackward0", "Log2Backward0", "Log10Backward0"):
        if _at(saved, "self", _zero):
            return "log at 0: its slope 1/x is infinite there."
    elif op == "Log1pBackward0":
        if _at(saved, "self", lambda v: v == -1):
            return "log1p at -1: its slope 1/(1 + x) is infinite there."
    elif op == "PowBackward0":
        exponent = saved.get("exponent")
        if isinstance(exponent, int | float) and exponent < 1 and _at(saved, "self", _zero):
            return (
                f"x ** {exponent} at 0: with a power below 1 its slope "
                f"{exponent}·x^({exponent} − 1) is infinite there."
            )
    elif op == "DivBackward0":
        if _at(saved, "other", _zero):
            return "division by 0: the slopes 1/b and −a/b² are infinite where b is 0."
    elif op == "ExpBackward0":
        if _at(saved, "result", np.isinf):
            return (
                "exp overflowed: its value is infinite (above about 88.7 in float32), and its "
                "slope is its value."
            )
    elif op in ("AcosBackward0", "AsinBackward0") and _at(saved, "self", _unit):
        name = "acos" if op == "AcosBackward0" else "asin"
        return f"{name} at ±1: its slope ∓1/√(1 − x²) is infinite there."
    return None


def why(graph: AutogradGraph, found: FirstNonFinite) -> str:
    """The reason, as the inspector and the page say it, for where a pass's NaN started."""
    if found.origin == "root":
        return ROOT
    if found.origin == "grad":
        return OLD_GRAD
    attrs = graph.nodes[found.node]
    label = attrs.label or attrs.op or "this node"
    cause = _cause(attrs)
    if cause is None:
        if isinstance(attrs.value, TensorSummary) and not is_finite(attrs.value):
            cause = f"{label}'s forward value is already NaN or infinite, and its gradient follows."
        else:
            cause = f"{label} made NaN or infinity from finite gradients."
    words = f"The first NaN or infinity of this pass: {cause}"
    consumers = {graph.nodes[v].op for v in graph.successors(found.node)}
    if "WhereBackward0" in consumers:
        words += " " + WHERE_TRAP
    return words
