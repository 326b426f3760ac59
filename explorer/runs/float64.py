"""Re-run a script's arithmetic in float64, for finite differences that float32 would drown.

A central difference (f(x+h) - f(x-h)) / 2h in float32 loses about ε·|f|/h to rounding: with
h = 1e-3 that is a part in ten thousand, no better than what it is meant to check. Float64Mode
makes every operation the script runs take float64 copies of its floating inputs, so all the
arithmetic from the script's values on is float64, while the values the script makes
(constructors, random draws, parameters) stay bit for bit what they were in float32:

- a float32 tensor becomes float64 exactly, when an operation takes it;
- conversions back (`.float()`, `dtype=torch.float32` on a tensor) stay float64;
- `total += term` on a float32 tensor while grad is on becomes `total = total + term`;
- other in-place operations (set-up such as `weight.uniform_()`) run as they are;
- random draws shaped like a tensor the mode widened are drawn in float32, as the script
  drew them, since float64 draws are different numbers from the same seed;
- the leaf being checked is replaced, from its first use on, by its float64 value plus a shift.
"""

from __future__ import annotations

from typing import Any

import torch

from explorer.runs.rerun import LeafKey, RerunMode

_NARROW = (torch.float32, torch.float16, torch.bfloat16)
_METADATA = frozenset(
    "__get__ __set__ requires_grad_ retain_grad numel element_size _is_view dim size stride "
    "is_floating_point is_complex data_ptr storage_offset is_contiguous __repr__ __format__ "
    "__str__ __len__ __hash__ item tolist".split()
)
_NARROWING = frozenset({"float", "half", "bfloat16"})
_RANDOM_LIKE = frozenset({"randn_like", "rand_like", "randint_like"})
_RANDOM_FILLS = frozenset(
    "normal_ uniform_ bernoulli_ random_ exponential_ geometric_ log_normal_ cauchy_".split()
)
# In-place arithmetic that `total += term` becomes, and its out-of-place twin.
_ACCUMULATING = {
    "add_": "add", "sub_": "sub", "mul_": "mul", "div_": "div",
    "__iadd__": "__add__", "__isub__": "__sub__", "__imul__": "__mul__",
    "__itruediv__": "__truediv__",
}  # fmt: skip


class Float64Mode(RerunMode):
    """RerunMode that computes in float64 and shifts chosen leaves by a float64 amount.

    overrides: new values copied into leaves at first use, as RerunMode does (in their own
    dtype). shifts: a float64 amount added to a leaf from its first use on.
    """

    def __init__(
        self,
        overrides: dict[LeafKey, torch.Tensor] | None = None,
        shifts: dict[LeafKey, torch.Tensor] | None = None,
    ) -> None:
        self.shifts = shifts or {}
        tracked: dict[LeafKey, torch.Tensor | None] = dict(overrides or {})
        for key in self.shifts:  # a shifted leaf is tracked even when it keeps its value
            tracked.setdefault(key, None)
        super().__init__(tracked)
        self._wide: dict[int, tuple[torch.Tensor, int, torch.Tensor]] = {}
        self._promoted: dict[int, torch.Tensor] = {}  # float64 here, float32 in the script

    def call(self, func: Any, args: tuple, kwargs: dict) -> Any:
        name = getattr(func, "__name__", "")
        if name in _METADATA:
            return func(*args, **kwargs)
        if name in _RANDOM_FILLS and args and self._is_promoted(args[0]):
            return self._draw_narrow(func, args, kwargs)
        if name in _ACCUMULATING and self._accumulate_out_of_place(args):
            name = _ACCUMULATING[name]
            func = getattr(torch.Tensor, name)
        elif name.endswith("_") or name in _ACCUMULATING or name == "__setitem__":
            # In place (init functions too, which take the tensor as a keyword): the target
            # keeps its dtype and identity, and what goes in is rounded to it.
            return func(*args, **kwargs)
        if name in _NARROWING and args and isinstance(args[0], torch.Tensor):
            func, name = torch.Tensor.double, "double"
        has_tensor = any(isinstance(a, torch.Tensor) for a in args)
        converted = False

        def widen(value: Any) -> Any:
            nonlocal converted
            if isinstance(value, torch.Tensor):
                wide = self._widen(value, narrow_draw=name in _RANDOM_LIKE)
                converted = converted or wide is not value or self._is_promoted(value)
                return wide
            if isinstance(value, list | tuple):
                items = [widen(v) for v in value]
                return tuple(items) if isinstance(value, tuple) else items
            if has_tensor and isinstance(value, torch.dtype) and value in _NARROW:
                return torch.float64
            return value

        new_args = tuple(widen(a) for a in args)
        new_kwargs = {k: widen(v) for k, v in kwargs.items()}
        result = func(*new_args, **new_kwargs)
        if converted:
            self._promote(result)
        return result

    # -- widening ------------------------------------------------------------------------
    def _widen(self, tensor: torch.Tensor, narrow_draw: bool = False) -> torch.Tensor:
        if narrow_draw:
            # Only the shape and dtype matter to a draw: draw as the script did, in float32.
            return tensor.float() if self._is_promoted(tensor) else tensor
        entry = self.entry_of(tensor)
        if entry is not None and entry.key in self.shifts and entry.used:
            return self._cached(tensor, lambda t: t.double() + self.shifts[entry.key])
        if tensor.dtype in _NARROW:
            return self._cached(tensor, lambda t: t.double())
        return tensor

    def _cached(self, tensor: torch.Tensor, make: Any) -> torch.Tensor:
        known = self._wide.get(id(tensor))
        if known is not None and known[0] is tensor and known[1] == tensor._version:
            return known[2]
        wide = make(tensor)
        self._wide[id(tensor)] = (tensor, tensor._version, wide)
        return wide

    def _promote(self, result: Any) -> None:
        items = result if isinstance(result, tuple | list) else (result,)
        for item in items:
            if isinstance(item, torch.Tensor) and item.dtype == torch.float64:
                self._promoted[id(item)] = item

    def _is_promoted(self, tensor: Any) -> bool:
        return isinstance(tensor, torch.Tensor) and self._promoted.get(id(tensor)) is tensor

    def _accumulate_out_of_place(self, args: tuple) -> bool:
        """`total += term` on a narrow total while grad is on: total + term, in float64.

        The interpreter binds the result to the name again, so the script sees its sum; only
        another name for the old total would not (and the float64 re-run would then disagree
        with float32, which the check reports)."""
        if not args or not isinstance(args[0], torch.Tensor) or not torch.is_grad_enabled():
            return False
        target = args[0]
        return target.dtype in _NARROW and not (target.is_leaf and target.requires_grad)

    def _draw_narrow(self, func: Any, args: tuple, kwargs: dict) -> torch.Tensor:
        """An in-place random fill of a widened tensor: draw in float32, then copy in."""
        target = args[0]
        narrow = torch.empty(target.shape, dtype=torch.float32)
        func(narrow, *args[1:], **kwargs)
        with torch.no_grad():
            target.copy_(narrow)
        return target

    def finish(self) -> None:
        super().finish()
        self._wide.clear()
        self._promoted.clear()
