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
    # short names differ by a larger share of their letters: xx for x, lss for loss
    cutoff = 0.6 if len(word) <= 4 else 0.7
    matches = difflib.get_close_matches(word, pool, n=1, cutoff=cutoff)
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
    shapes = _shape_hint(text, call, args)
    if shapes:
        return first_line(text), shapes
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


def _shape_text(value: object) -> str | None:
    shape = getattr(value, "shape", None)
    if shape is None or not hasattr(shape, "__len__"):
        return None
    return "×".join(map(str, shape)) if len(shape) else "a scalar"


def _shape_hint(text: str, call: str, args: tuple) -> str:
    """For a shape mismatch: which dimensions disagree, and what would make them agree."""
    product = re.search(r"shapes cannot be multiplied \((\d+)x(\d+) and (\d+)x(\d+)\)", text)
    if product:
        rows, inner, other, cols = map(int, product.groups())
        if "linear" in call.lower() or len(args) == 1:  # a layer: x @ weight.T
            return (
                f"the layer takes {other} input features, and the input's last dimension is "
                f"{inner}: make the layer nn.Linear({inner}, {cols}), or reshape the input to "
                f"end in {other}"
            )
        if inner == cols and rows == other:
            fix = "transpose one of them (b.T or a.T)"
        elif inner == cols:
            fix = f"transpose the second (b.T is {cols}×{other})"
        elif rows == other:
            fix = f"transpose the first (a.T is {inner}×{rows})"
        elif cols == rows:
            fix = f"swap them: b @ a is {other}×{cols} @ {rows}×{inner}"
        else:
            fix = "reshape one of them so that they agree"
        return (
            f"in a @ b the columns of a must equal the rows of b: {rows}×{inner} and "
            f"{other}×{cols} disagree ({inner} ≠ {other}); {fix}"
        )
    broadcast = re.search(
        r"size of tensor a \((\d+)\) must match the size of tensor b \((\d+)\) at "
        r"non-singleton dimension (\d+)",
        text,
    )
    if broadcast:
        a, b, dim = broadcast.groups()
        shapes = [t for t in map(_shape_text, args) if t]
        both = f" ({shapes[0]} and {shapes[1]})" if len(shapes) >= 2 else ""
        return (
            f"the shapes{both} disagree at dimension {dim}: {a} and {b}. To combine "
            "elementwise, sizes must be equal or 1: reshape or transpose one, or add a size-1 "
            "dimension with unsqueeze"
        )
    reshape = re.search(r"shape '\[([-\d, ]+)\]' is invalid for input of size (\d+)", text)
    if reshape:
        dims = [d.strip() for d in reshape.group(1).split(",")]
        return (
            f"{'×'.join(dims)} does not hold {reshape.group(2)} elements: the new shape must "
            "hold as many elements as the tensor (write -1 for one size to have it worked out)"
        )
    out_of_range = re.search(
        r"Dimension out of range \(expected to be in range of \[(-?\d+), (-?\d+)\]", text
    )
    if out_of_range:
        low, high = map(int, out_of_range.groups())
        count = high + 1
        return (
            f"this tensor has {count} dimension{'' if count == 1 else 's'}: dim can be 0 to "
            f"{high}, or {low} to -1 counting from the end"
        )
    if re.search(r"(mat1|m1) and (mat2|m2) (must|to) have the same dtype", text):
        return "make both the same dtype, e.g. .float() on the integer or double one"
    return ""


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


# Python's own suggestion, split off its message into the hint
_PYTHON_SUGGESTION = re.compile(
    r"^(.*?)[.?]? (Maybe you meant .*|Perhaps you forgot .*|Did you mean .*)$"
)
_SYNTAX_HINTS = {
    "expected ':'": "a line that opens a block (if, for, while, def, class, with) ends with ':'",
    "unexpected indent": "remove the spaces at the start of this line, or open a block on the "
    "line above (ending it with ':')",
    "unindent does not match any outer indentation level": "line this line's indentation up "
    "with a line above it",
    "expected an indented block": "indent the block's lines by four spaces",
    "was never closed": "close it at the end of the expression",
    "unmatched": "remove it, or add the bracket that opens it",
    "unterminated string literal": "end the string with the quote it starts with",
    "invalid decimal literal": "a name cannot start with a digit; numbers and names need an "
    "operator between them (2 * x, not 2x)",
    "cannot assign to": "the left of = must be a name, an attribute or an item (x, m.w, d[k])",
    "positional argument follows keyword argument": "put the positional arguments first, then "
    "the name=value ones",
}
_OPERATORS = "+-*/%@&|^<>=,.:"


def syntax_hint(message: str, line: str, column: int) -> tuple[str, str]:
    """(message, hint) for a syntax error at column (1-based) of line: Python's suggestion as
    the hint when it makes one, else the likely fix for the commonest slips."""
    suggestion = _PYTHON_SUGGESTION.match(message)
    if suggestion:
        said, hint = suggestion.groups()
        hint = hint[0].lower() + hint[1:]
        if "print(...)" in hint:
            return "print needs parentheses", "write print(...)"
        if "'==' or ':='" in hint:
            return said, "to compare, write == (a single = assigns a name)"
        return said, hint.rstrip("?") + "?" if hint.endswith("?") else hint
    for words, hint in _SYNTAX_HINTS.items():
        if words in message:
            return message, hint
    code = line.split("#", 1)[0].rstrip()
    before = code[: max(column - 1, 0)].rstrip()
    at = code[max(column - 1, 0) :].lstrip()[:1]
    if code and code[-1] in _OPERATORS and code[-1] not in ":":
        return message, f"the line ends with {code[-1]!r}: something is missing after it"
    if before and at and before[-1] in _OPERATORS and at in _OPERATORS:
        return message, f"{before[-1]!r} and {at!r} in a row: a value is missing between them"
    if (
        at
        and before
        and (before[-1].isalnum() or before[-1] in ")]")
        and (at.isalnum() or at in "([\"'")
    ):
        return message, "two values in a row: an operator or a comma may be missing between them"
    return message, "check this line against the Python you know: brackets, commas and colons"
