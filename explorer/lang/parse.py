"""Parse script text and check it against the language's allow-list of syntax."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from explorer.lang.errors import ScriptError
from explorer.lang.hints import syntax_hint
from explorer.lang.limits import Limits
from explorer.lang.tables import MODULE_NAMES

_ALLOWED = (
    ast.Module, ast.Expr, ast.Assign, ast.AugAssign, ast.For, ast.If, ast.With, ast.Pass,
    ast.Break, ast.Continue, ast.Import, ast.ImportFrom, ast.alias, ast.withitem, ast.Assert,
    ast.Delete,
    ast.Constant, ast.Name, ast.Attribute, ast.Subscript, ast.Slice, ast.Call, ast.keyword,
    ast.Starred, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Tuple,
    ast.List, ast.JoinedStr, ast.FormattedValue,
    ast.While, ast.Try, ast.ExceptHandler, ast.Raise, ast.Dict, ast.Set,
    ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.comprehension,
    ast.FunctionDef, ast.Lambda, ast.Return, ast.arguments, ast.arg, ast.Global, ast.Nonlocal,
    ast.ClassDef, ast.AnnAssign,
    ast.Load, ast.Store, ast.Del,
    ast.operator, ast.unaryop, ast.boolop, ast.cmpop,
)  # fmt: skip

_REFUSED = {
    ast.AsyncFunctionDef: "async functions are not available in explorer scripts",
    ast.NamedExpr: "the := operator is not available in explorer scripts",
    ast.Await: "await is not available in explorer scripts",
    ast.Yield: "yield (generator functions) is not available in explorer scripts",
    ast.YieldFrom: "yield (generator functions) is not available in explorer scripts",
}

_HINTS = {
    ast.Yield: "build a list and return it",
    ast.YieldFrom: "build a list and return it",
}

# The only names of Python's own a script defines: a class's __init__.
_DUNDER_METHODS = frozenset({"__init__"})


def parse(text: str, limits: Limits) -> ast.Module:
    """Parse text into a checked tree, or raise ScriptError at the first refused construct."""
    if len(text) > limits.max_source_chars:
        raise ScriptError(
            f"the script is {len(text):,} characters long; the limit is {limits.max_source_chars:,}"
        ).locate(1, 1, "")
    if text.count("\n") + 1 > limits.max_lines:
        raise ScriptError(f"the script has more than {limits.max_lines:,} lines").locate(1, 1, "")
    too_deep = _bracket_depth_line(text, limits.max_depth)
    if too_deep:
        line, column = too_deep
        raise _deep(limits).locate(line, column, _line(text, line))
    try:
        tree = ast.parse(text, mode="exec")
    except SyntaxError as err:
        line, column = err.lineno or 1, err.offset or 1
        message = (err.msg or "invalid syntax").replace("(<unknown>, line", "(line")
        message, hint = syntax_hint(message, _line(text, line), column)
        raise ScriptError(message, hint).locate(line, column, _line(text, line)) from None
    except (RecursionError, MemoryError, ValueError) as err:
        if isinstance(err, ValueError) and "null" not in str(err):
            raise
        message = "the script contains a NUL character" if isinstance(err, ValueError) else None
        raise (ScriptError(message) if message else _deep(limits)).locate(1, 1, "") from None
    check(tree, text, limits)
    return tree


def _deep(limits: Limits) -> ScriptError:
    return ScriptError(
        f"the script is nested more than {limits.max_depth} levels deep",
        hint="split the expression into several lines with names",
    )


def _line(text: str, line: int) -> str:
    lines = text.splitlines()
    return lines[line - 1] if 1 <= line <= len(lines) else ""


def _bracket_depth_line(text: str, max_depth: int) -> tuple[int, int] | None:
    """Where brackets first nest deeper than max_depth, before the parser recurses into them."""
    depth, line, column = 0, 1, 0
    for char in text:
        column += 1
        if char == "\n":
            line, column = line + 1, 0
        elif char in "([{":
            depth += 1
            if depth > max_depth:
                return line, column
        elif char in ")]}":
            depth = max(0, depth - 1)
    return None


@dataclass(frozen=True)
class _Place:
    """Where a node stands: in a loop, in a function, directly in a class body."""

    loop: bool = False
    function: bool = False
    class_body: bool = False


def check(tree: ast.Module, text: str, limits: Limits) -> None:
    """Walk the tree without recursion and refuse what the language does not have."""
    stack: list[tuple[ast.AST, int, _Place]] = [(tree, 0, _Place())]
    while stack:
        node, depth, place = stack.pop()
        if depth > limits.max_depth:
            raise _at(_deep(limits), node, text)
        _check_place(node, place, text)
        _check_node(node, text, limits)
        for child in ast.iter_child_nodes(node):
            stack.append((child, depth + 1, _place_of(node, child, place)))


def _place_of(parent: ast.AST, child: ast.AST, place: _Place) -> _Place:
    if isinstance(parent, ast.FunctionDef | ast.Lambda):
        body = parent.body if isinstance(parent, ast.FunctionDef) else [parent.body]
        return _Place(function=True) if child in body else _Place(function=place.function)
    if isinstance(parent, ast.ClassDef):
        inside = child in parent.body
        return _Place(function=place.function, class_body=inside)
    loop = place.loop or (isinstance(parent, ast.For | ast.While) and child in parent.body)
    return _Place(loop=loop, function=place.function)


def _check_place(node: ast.AST, place: _Place, text: str) -> None:
    if isinstance(node, ast.Break | ast.Continue) and not place.loop:
        word = "break" if isinstance(node, ast.Break) else "continue"
        raise _at(ScriptError(f"{word} works only inside a loop"), node, text)
    if isinstance(node, ast.Return) and not place.function:
        raise _at(ScriptError("return works only inside a function"), node, text)
    if isinstance(node, ast.Nonlocal) and not place.function:
        raise _at(ScriptError("nonlocal works only inside a function"), node, text)
    dunder = isinstance(node, ast.FunctionDef) and node.name.startswith("__")
    if dunder and not (place.class_body and node.name in _DUNDER_METHODS):
        raise _at(_private(node.name), node, text)


def _check_node(node: ast.AST, text: str, limits: Limits) -> None:
    kind = type(node)
    if kind in _REFUSED:
        raise _at(ScriptError(_REFUSED[kind], _HINTS.get(kind, "")), node, text)
    if not isinstance(node, _ALLOWED):
        name = kind.__name__
        raise _at(ScriptError(f"{name} is not available in explorer scripts"), node, text)
    if isinstance(node, ast.alias) and (node.asname or "").startswith("_"):
        raise _at(_private(node.asname or ""), node, text)
    if isinstance(node, ast.Name) and node.id.startswith("__"):
        raise _at(_private(node.id), node, text)
    if isinstance(node, ast.ExceptHandler) and (node.name or "").startswith("__"):
        raise _at(_private(node.name or ""), node, text)
    if isinstance(node, ast.comprehension) and node.is_async:
        raise _at(ScriptError("async comprehensions are not available"), node.target, text)
    if isinstance(node, ast.Raise) and node.cause is not None:
        raise _at(ScriptError("raise ... from is not available in explorer scripts"), node, text)
    if isinstance(node, ast.Attribute) and node.attr.startswith("__") and not _super_init(node):
        raise _at(_private(node.attr), node, text)
    if isinstance(node, ast.arg) and node.arg.startswith("__"):
        raise _at(_private(node.arg), node, text)
    if isinstance(node, ast.ClassDef) and (node.keywords or node.decorator_list):
        raise _at(
            ScriptError("class decorators and metaclasses are not available in explorer scripts"),
            node,
            text,
        )
    if isinstance(node, ast.keyword) and node.arg is not None and node.arg.startswith("_"):
        raise _at(_private(node.arg), node, text)
    if isinstance(node, ast.Constant):
        _check_constant(node, text, limits)
    if isinstance(node, ast.FormattedValue) and node.conversion == ord("a"):
        raise _at(ScriptError("the !a conversion is not available"), node, text)
    if isinstance(node, ast.Import | ast.ImportFrom):
        _check_import(node, text)
    if isinstance(node, ast.With):
        for item in node.items:
            if item.optional_vars is not None:
                raise _at(ScriptError("with ... as is not available here"), node, text)


def _super_init(node: ast.Attribute) -> bool:
    """super().__init__ and super(Net, self).__init__: the one dunder a script reaches."""
    call = node.value
    return (
        node.attr == "__init__"
        and isinstance(call, ast.Call)
        and isinstance(call.func, ast.Name)
        and call.func.id == "super"
    )


def _private(name: str) -> ScriptError:
    # A name may start with one underscore (for _ in range(3), self._cache); Python's own
    # names start with two, and are the doors out of the language. Attributes with one are
    # refused where they are looked up: only the allow-lists and the script's own are found.
    return ScriptError(
        f"names starting with a double underscore ({name}) are Python's own, not available in "
        "explorer scripts"
    )


def _check_constant(node: ast.Constant, text: str, limits: Limits) -> None:
    value = node.value
    if isinstance(value, bytes):
        raise _at(ScriptError("bytes literals are not available in explorer scripts"), node, text)
    if isinstance(value, str) and len(value) > limits.max_string:
        raise _at(
            ScriptError(f"string literals are limited to {limits.max_string} characters"),
            node,
            text,
        )
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        raise _at(ScriptError("integer literal too large"), node, text)
    if isinstance(value, complex):
        raise _at(ScriptError("complex numbers are not available in explorer scripts"), node, text)


def _check_import(node: ast.Import | ast.ImportFrom, text: str) -> None:
    if isinstance(node, ast.ImportFrom) and node.level:
        raise _at(ScriptError("relative imports are not available"), node, text)
    modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
    for module in modules:
        if module not in MODULE_NAMES:
            raise _at(
                ScriptError(
                    f"import {module} is not available in explorer scripts",
                    hint="torch (nn, functional, init, linalg, utils, autograd, optim), "
                    "torch.utils.data and math can be imported",
                ),
                node,
                text,
            )
    if any(a.name == "*" for a in node.names):
        raise _at(
            ScriptError("import * is not available", hint="import names one by one"), node, text
        )


def position(node: ast.AST, default_line: int = 1) -> tuple[int, int]:
    """(line, 1-based column) of a node; for a.b, the column of b, where the mistake usually is."""
    line = getattr(node, "lineno", default_line)
    column = getattr(node, "col_offset", 0) + 1
    if isinstance(node, ast.Attribute) and node.end_lineno == line and node.end_col_offset:
        column = node.end_col_offset - len(node.attr) + 1
    return line, column


def _at(error: ScriptError, node: ast.AST, text: str) -> ScriptError:
    line, column = position(node)
    return error.locate(line, column, _line(text, line))
