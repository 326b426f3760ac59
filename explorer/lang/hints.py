"""Plain-words messages and hints for the mistakes students make most."""

from __future__ import annotations

import difflib
import re
import reprlib
from collections.abc import Iterable

from explorer.lang.errors import LimitError, ScriptError, kind_of
from explorer.lang.tables import COMMON_KEYWORDS


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A 'did you mean ...?' hint for a close match, or ''."""
    pool = [c for c in candidates if not c.startswith("_")]
    matches = difflib.get_close_matches(word, pool, n=1, cutoff=0.7)
    if not matches:
        lower = {c.lower(): c for c in pool}
        matches = [lower[word.lower()]] if word.lower() in lower else []
    return f"did you mean {matches[0]}?" if matches else ""


_OUT_OF_MEMORY = (
    "can't allocate memory",
    "alloc_cpu",
    "out of memory",
    "Cannot allocate memory",
    "bad_alloc",
)
_FIRST_LINE = re.compile(r"^\s*(.*?)\s*$")


def first_line(text: str) -> str:
    for line in text.strip().splitlines():
        if line.strip():
            return _FIRST_LINE.match(line).group(1)  # type: ignore[union-attr]
    return text.strip()


# The explorer's own value types, as a script's author knows them.
_OWN_TYPES = {
    "Namespace": "module",
    "Function": "function",
    "Method": "method",
    "Builtin": "built-in function",
}
_BACKENDS = {
    "SparseCPU": "sparse",
    "SparseCsrCPU": "sparse",
    "Meta": "meta",
    "QuantizedCPU": "quantized",
}


def explain_python_error(error: Exception) -> tuple[str, str]:
    """(message, hint) for an error Python or torch raised while running a script line.

    The words are PyTorch's or ours: never an exception class, a dunder method or a C++ type.
    """
    text = str(error)
    line = first_line(text)
    if isinstance(error, MemoryError) or any(w in text for w in _OUT_OF_MEMORY):
        return "the script ran out of memory", "use smaller tensors, or fewer of them at once"
    if isinstance(error, OverflowError):
        return "this number is too large", "use smaller numbers"
    if line == "ZeroDivisionError":  # torch's words for an integer tensor divided by 0
        return "integer division by zero", "divide floats, or make sure the divisor is not 0"
    if isinstance(error, ZeroDivisionError):
        return line or "division by zero", ""
    if isinstance(error, RecursionError):
        return "this value is nested too deeply", "use a tensor instead of nested lists"
    if type(error) is KeyError and len(error.args) == 1:  # its text is the bare key
        key = reprlib.repr(error.args[0])
        return f"{key} is not in this dict or set", "check the key, or use d.get(key, default)"
    fmt = re.match(r"unsupported format string passed to (\w+)\.__format__", line)
    if fmt:
        what = "a tensor of more than one value" if fmt.group(1) == "Tensor" else "this value"
        return (
            f"this format applies to single numbers, not to {what}",
            "format one number, such as x.item() or x[0].item(), or leave out the format",
        )
    no_round = re.match(r"type (\w+) doesn't define __round__ method", line)
    if no_round:
        kind = "a tensor" if no_round.group(1) == "Tensor" else f"a {_own(no_round.group(1))}"
        return f"round() takes a number, not {kind}", "use torch.round(x), or round(x.item())"
    backend = re.match(r"Could not run 'aten::(\w+)' with arguments from the '(\w+)' backend", line)
    if backend:
        kind = _BACKENDS.get(backend.group(2), backend.group(2))
        return f"{backend.group(1)} does not work on {kind} tensors", "use .to_dense() first"
    not_iterable = re.match(r"argument of type '(\w+)' is not iterable", line)
    if not_iterable:
        kind = _own(not_iterable.group(1))
        return f"'in' looks inside a list, tuple, string or tensor, not a {kind}", ""
    return _own_words(line) or "this line failed", ""


def _own(type_name: str) -> str:
    return _OWN_TYPES.get(type_name, type_name)


def _own_words(line: str) -> str:
    """line with the explorer's internal type names said the way a script's author knows them."""
    for internal, own in _OWN_TYPES.items():
        line = re.sub(rf"\b{internal}\b", own, line)
    return line


def explain_torch_error(error: Exception, call: str, args: tuple, kwargs: dict) -> tuple[str, str]:
    """Turn an exception raised by torch into (message, hint) for the call `call`."""
    text = str(error)
    if isinstance(error, MemoryError | OverflowError | ZeroDivisionError | RecursionError) or any(
        w in text for w in _OUT_OF_MEMORY
    ):
        return explain_python_error(error)
    if "floating point and complex dtype can require gradients" in text:
        return _integer_requires_grad(call, args)
    if "backward through the graph a second time" in text or "already been freed" in text:
        return (
            "this graph's saved values were freed by an earlier backward()",
            "call the first backward with retain_graph=True to backward through it again",
        )
    if "grad can be implicitly created only for scalar outputs" in text:
        return (
            "backward() without a gradient works only on a single number (a scalar)",
            "pass a gradient of the tensor's shape, such as y.backward(torch.ones_like(y)), "
            "or reduce it first: y.sum().backward()",
        )
    if "does not require grad and does not have a grad_fn" in text:
        return (
            "this tensor does not require grad, so there is nothing to backward through",
            "make an input with requires_grad=True, and compute outside torch.no_grad()",
        )
    if "modified by an inplace operation" in text:
        return (
            "a tensor needed for the gradient was changed in place after it was used",
            "write x = x + 1 instead of x += 1 for tensors that are part of the graph",
        )
    if "leaf Variable that requires grad is being used in an in-place operation" in text:
        return (
            "a leaf tensor that requires grad cannot be changed in place while tracking",
            "update it inside with torch.no_grad():",
        )
    if "Boolean value of Tensor with more than one" in text:
        return (
            "a tensor with more than one value is neither True nor False",
            "use .all() or .any(), or compare one element",
        )
    unexpected = re.search(r"unexpected keyword argument '(\w+)'", text) or re.search(
        r"got an unexpected keyword argument (\w+)", text
    )
    if unexpected:
        word = unexpected.group(1)
        return f"{call}() has no argument named {word}", did_you_mean(word, COMMON_KEYWORDS)
    if "received an invalid combination of arguments" in text or "incompatible function" in text:
        wrong = [k for k in kwargs if k not in COMMON_KEYWORDS]
        hint = did_you_mean(wrong[0], COMMON_KEYWORDS) if wrong else ""
        got = re.search(r"got \((.*?)\)\s*$", text, re.M)
        detail = f" (got {got.group(1)})" if got else ""
        return f"{call}() was called with arguments it does not take{detail}", hint
    return explain_python_error(error)


def _integer_requires_grad(call: str, args: tuple) -> tuple[str, str]:
    if call.endswith("full") and len(args) >= 2 and isinstance(args[1], int):
        fill = args[1]
        return (
            f"torch.full with the integer fill {fill} makes an integer tensor, and current "
            "PyTorch refuses requires_grad=True on integer tensors",
            f"write the fill as a float: {fill}.0",
        )
    return (
        "only floating point tensors can require gradients, and these values are integers",
        "write the numbers as floats (4.0 instead of 4), or pass dtype=torch.float32",
    )


def script_error(error: Exception, message: str, hint: str) -> ScriptError:
    """The error a script sees for one Python or torch raised: of its kind, for `except`;
    running out of memory is a limit, which no `except` catches."""
    if isinstance(error, MemoryError) or any(w in str(error) for w in _OUT_OF_MEMORY):
        return LimitError(message, hint)
    # str(e) of a caught KeyError is the bare key, as in Python; other errors read as shown
    detail = str(error) if type(error) is KeyError else None
    return ScriptError(message, hint, kind=kind_of(error), detail=detail)
