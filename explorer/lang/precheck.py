"""Check a script before anything runs: the parser's allow-list, and names that never exist.

A script from a file someone else wrote (a lesson) is checked here first, so one that
reaches for Python's own builtins (`open`, `eval`, `getattr`) or for torch functions the
language does not offer (`torch.save`, `torch.load`) is refused before a worker sees it.
The interpreter refuses the same things at run time; this only makes the refusal early.
Imports no torch: the window and the lesson loader use it.
"""

from __future__ import annotations

import ast
import builtins

from explorer.lang import tables
from explorer.lang.errors import ScriptError
from explorer.lang.hints import did_you_mean
from explorer.lang.limits import Limits
from explorer.lang.parse import parse, position
from explorer.lang.transcript import strip_prompts

# Names every script starts with, besides the builtins the language offers.
GLOBAL_NAMESPACES = {"torch": "torch", "nn": "torch.nn", "F": "torch.nn.functional", "math": "math"}
MEMBERS = {
    "torch": tables.TORCH_MEMBERS,
    "torch.nn": tables.NN_MEMBERS,
    "torch.nn.functional": tables.FUNCTIONAL_MEMBERS,
    "math": tables.MATH_MEMBERS,
    "torch.autograd": tables.AUTOGRAD_MEMBERS,
    "torch.autograd.functional": tables.AUTOGRAD_FUNCTIONAL_MEMBERS,
    "torch.linalg": tables.LINALG_MEMBERS,
    "torch.nn.init": tables.INIT_MEMBERS,
    "torch.optim": tables.OPTIM_MEMBERS,
    "torch.optim.lr_scheduler": tables.LR_SCHEDULER_MEMBERS,
    "torch.nn.utils": tables.NN_UTILS_MEMBERS,
    "torch.utils.data": tables.DATA_MEMBERS,
}
SUBMODULES = {
    ("torch", "nn"): "torch.nn",
    ("torch.nn", "functional"): "torch.nn.functional",
    ("torch", "autograd"): "torch.autograd",
    ("torch.autograd", "functional"): "torch.autograd.functional",
    ("torch", "linalg"): "torch.linalg",
    ("torch.nn", "init"): "torch.nn.init",
    ("torch", "optim"): "torch.optim",
    ("torch.optim", "lr_scheduler"): "torch.optim.lr_scheduler",
    ("torch.nn", "utils"): "torch.nn.utils",
}


def precheck(text: str, limits: Limits | None = None) -> None:
    """Raise ScriptError (with line and column) at the first thing the script can never do."""
    limits = limits or Limits()
    # As a run does: a pasted transcript loses its prompts; an over-long text is refused as is.
    code = strip_prompts(text) if len(text) <= limits.max_source_chars else None
    try:
        tree = parse(code.text if code else text, limits)
        _check_names(tree)
    except _Refused as refused:
        line, column = position(refused.node)
        error = refused.error.locate(line, column, "")
    except ScriptError as error_:
        error = error_
    else:
        return
    problem = error.problem  # at the place in the text as written, prompts and all
    lines = text.splitlines()
    if code is not None:
        problem.column = code.original_column(problem.line, problem.column)
    problem.text = lines[problem.line - 1] if 1 <= problem.line <= len(lines) else ""
    raise error


class _Refused(Exception):
    def __init__(self, error: ScriptError, node: ast.AST) -> None:
        super().__init__(str(error))
        self.error = error
        self.node = node


def _check_names(tree: ast.Module) -> None:
    bound = _bound_names(tree)
    namespaces = {k: v for k, v in GLOBAL_NAMESPACES.items() if k not in bound}
    namespaces.update(_imported_namespaces(tree))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            _check_name(node, bound | set(namespaces))
        elif isinstance(node, ast.Attribute):
            _check_member(node, namespaces)
        elif isinstance(node, ast.ImportFrom):
            _check_import_from(node)


def _check_name(node: ast.Name, known: set[str]) -> None:
    name = node.id
    if name in known or name in tables.BUILTINS:
        return
    if hasattr(builtins, name):  # Python has it, the language does not: open, eval, getattr…
        raise _Refused(ScriptError(f"{name} is not available in explorer scripts"), node)


def _check_member(node: ast.Attribute, namespaces: dict[str, str]) -> None:
    space = _namespace_of(node.value, namespaces)
    if space is None or (space, node.attr) in SUBMODULES:
        return
    members = MEMBERS[space]
    if node.attr not in members:
        error = ScriptError(
            f"{space}.{node.attr} is not available in explorer scripts",
            hint=tables.REFUSED_HINTS.get(node.attr) or did_you_mean(node.attr, members),
        )
        raise _Refused(error, node)


def _check_import_from(node: ast.ImportFrom) -> None:
    space = tables.MODULE_NAMES.get(node.module or "") and (node.module or "")
    if not space or space not in MEMBERS:
        return  # the parser has already refused any other module
    for alias in node.names:
        if alias.name not in MEMBERS[space] and (space, alias.name) not in SUBMODULES:
            error = ScriptError(
                f"{space}.{alias.name} is not available in explorer scripts",
                hint=tables.REFUSED_HINTS.get(alias.name, ""),
            )
            raise _Refused(error, node)


def _namespace_of(node: ast.expr, namespaces: dict[str, str]) -> str | None:
    """`torch`, `nn`, `torch.nn`, `F`… as the module path they stand for, else None."""
    if isinstance(node, ast.Name):
        return namespaces.get(node.id)
    if isinstance(node, ast.Attribute):
        parent = _namespace_of(node.value, namespaces)
        return SUBMODULES.get((parent, node.attr)) if parent else None
    return None


def _bound_names(tree: ast.Module) -> set[str]:
    """Names the script assigns, loops over, deletes, defines or imports itself."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            bound.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
    return bound


def _imported_namespaces(tree: ast.Module) -> dict[str, str]:
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    found[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    found[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module in MEMBERS:
            for alias in node.names:
                path = SUBMODULES.get((node.module, alias.name))
                if path:
                    found[alias.asname or alias.name] = path
    return found
