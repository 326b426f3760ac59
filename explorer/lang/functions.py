"""Functions a script defines (def and lambda): their scopes, arguments, calls and returns.

A script function is interpreted like the rest of the script: calling it binds its arguments
into a dict of locals, runs its body with the interpreter and comes back with what `return`
gave. Names resolve as Python resolves them: the function's locals, then the locals of the
functions around it (closures, late-bound as in Python), then the script's globals, then the
language's builtins.
"""

from __future__ import annotations

import ast
import inspect
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import torch

from explorer.lang.errors import LimitError, ScriptError
from explorer.lang.values import Function

if TYPE_CHECKING:
    from explorer.lang.classes import ScriptClass
    from explorer.lang.interpreter import Interpreter

_EMPTY = inspect.Parameter.empty
_KINDS = inspect.Parameter


class Return(Exception):
    """A script's return, on its way to the call it ends."""

    def __init__(self, value: Any) -> None:
        super().__init__()
        self.value = value


@dataclass(frozen=True)
class Scope:
    """How names resolve while a function body or a class body runs."""

    enclosing: tuple[dict, ...] = ()  # the locals of the functions around, innermost first
    local: frozenset[str] = frozenset()  # names the body assigns: local unless declared
    declared_global: frozenset[str] = frozenset()
    declared_nonlocal: frozenset[str] = frozenset()
    function: ScriptFunction | None = None  # None in a class body or a comprehension
    owner: ScriptClass | None = None  # the class whose body defined the function, for super()
    class_body: bool = False  # a scope the functions defined in it do not see
    first: Any = None  # the function's first argument (self), for super()


@dataclass(eq=False)
class ScriptFunction:
    """A function the script defined with def or lambda."""

    name: str
    node: ast.FunctionDef | ast.Lambda
    signature: inspect.Signature
    scope: Scope  # enclosing, local and declared names; function and first are per call
    interpreter: weakref.ref
    grad_mode: Any = None  # a @torch.no_grad() decorator's mode, entered around each call
    qualname: str = field(default="")
    static: bool = False  # @staticmethod: looked up on an object, it is not bound to it

    def __repr__(self) -> str:
        return f"<function {self.qualname or self.name} at {id(self):#x}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Called by Python or torch (a hook, a sort key): the interpreter runs the body."""
        interpreter = self.interpreter()
        if interpreter is None:
            raise ScriptError(f"{self.name} belongs to a run that has ended")
        return interpreter.callback(lambda: call(interpreter, self, args, kwargs))


@dataclass(eq=False)
class BoundMethod:
    """A script function bound to the object it was looked up on: obj.method."""

    function: ScriptFunction
    owner: Any

    def __repr__(self) -> str:
        return f"<bound method {self.function.qualname} of {self.owner!r}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(self.owner, *args, **kwargs)


# Python's own names for these, which its messages use ("a tensor cannot be combined with a
# function", "'method' object is not iterable"), as for the functions they stand for.
ScriptFunction.__name__ = "function"
BoundMethod.__name__ = "method"


def is_script_callable(value: Any) -> bool:
    return isinstance(value, ScriptFunction | BoundMethod)


# -- defining -----------------------------------------------------------------------------


def function_def(interpreter: Interpreter, statement: ast.FunctionDef) -> None:
    from explorer.lang.assignment import bind_name  # it imports the expressions we use

    static = [d for d in statement.decorator_list if _is_staticmethod(interpreter, d)]
    rest = [d for d in statement.decorator_list if d not in static]
    mode = _grad_mode(interpreter, rest)
    function = _make(interpreter, statement, statement.name, statement.args, mode)
    function.static = bool(static)
    bind_name(interpreter, statement.name, function)


def _is_staticmethod(interpreter: Interpreter, decorator: ast.expr) -> bool:
    """@staticmethod, which a class body may use (autograd.Function's forward and backward)."""
    if not (isinstance(decorator, ast.Name) and decorator.id == "staticmethod"):
        return False
    scope = interpreter.scope
    if scope is None or not scope.class_body:
        raise interpreter.locate(
            ScriptError("@staticmethod works only on a method in a class"), decorator
        )
    return True


def lambda_of(interpreter: Interpreter, node: ast.Lambda) -> ScriptFunction:
    return _make(interpreter, node, "<lambda>", node.args, None)


def _make(
    interpreter: Interpreter,
    node: ast.FunctionDef | ast.Lambda,
    name: str,
    arguments: ast.arguments,
    mode: Any,
) -> ScriptFunction:
    outer = interpreter.scope
    owner = outer.owner if outer is not None and outer.class_body else None
    enclosing = inner_enclosing(interpreter)
    body = [ast.Return(node.body)] if isinstance(node, ast.Lambda) else node.body
    declared_global, declared_nonlocal = _declared(body)
    parameters = [a.arg for a in _all_arguments(arguments)]
    scope = Scope(
        enclosing=enclosing,
        local=frozenset(parameters) | (assigned_names(body) - declared_global - declared_nonlocal),
        declared_global=declared_global,
        declared_nonlocal=declared_nonlocal,
        owner=owner,
    )
    qualname = f"{owner.name}.{name}" if owner is not None else name
    return ScriptFunction(
        name, node, _signature(interpreter, arguments), scope, weakref.ref(interpreter), mode,
        qualname,
    )  # fmt: skip


def inner_enclosing(interpreter: Interpreter) -> tuple[dict, ...]:
    """The enclosing scopes of a function, class or comprehension defined where the run is."""
    outer = interpreter.scope
    if outer is None:
        return ()
    if outer.class_body:  # a class body is not a scope its methods see
        return outer.enclosing
    return (interpreter.env, *outer.enclosing)


def _all_arguments(arguments: ast.arguments) -> list[ast.arg]:
    extra = [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
    return [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, *extra]


def _signature(interpreter: Interpreter, arguments: ast.arguments) -> inspect.Signature:
    """The function's parameters as inspect.Signature, whose bind is Python's own binding."""
    positional = [*arguments.posonlyargs, *arguments.args]
    defaults = [interpreter.evaluate(d) for d in arguments.defaults]
    first_default = len(positional) - len(defaults)
    parameters = []
    for index, argument in enumerate(positional):
        kind = _KINDS.POSITIONAL_ONLY if index < len(arguments.posonlyargs) else None
        default = defaults[index - first_default] if index >= first_default else _EMPTY
        parameters.append(
            _KINDS(argument.arg, kind or _KINDS.POSITIONAL_OR_KEYWORD, default=default)
        )
    if arguments.vararg is not None:
        parameters.append(_KINDS(arguments.vararg.arg, _KINDS.VAR_POSITIONAL))
    for argument, default_node in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True):
        default = _EMPTY if default_node is None else interpreter.evaluate(default_node)
        parameters.append(_KINDS(argument.arg, _KINDS.KEYWORD_ONLY, default=default))
    if arguments.kwarg is not None:
        parameters.append(_KINDS(arguments.kwarg.arg, _KINDS.VAR_KEYWORD))
    return inspect.Signature(parameters)


def _grad_mode(interpreter: Interpreter, decorators: list[ast.expr]) -> Any:
    """@torch.no_grad() and its kin are the decorators a script may use."""
    mode = None
    for decorator in decorators:
        value = interpreter.evaluate(decorator)
        if isinstance(value, Function) and value.target in _DECORATORS:
            value = value.target()  # @torch.no_grad, without the brackets
        if type(value) not in _DECORATORS or mode is not None:
            raise interpreter.locate(
                ScriptError(
                    "the only decorators in explorer scripts are @torch.no_grad(), "
                    "@torch.enable_grad() and, in a class, @staticmethod",
                    hint="call the function inside a with block instead",
                ),
                decorator,
            )
        mode = value
    return mode


_DECORATORS = (torch.no_grad, torch.enable_grad)

_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda,
           ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)  # fmt: skip


def _body_nodes(body: list[ast.stmt]) -> Iterator[ast.AST]:
    """The nodes of a body that belong to its own scope (not to nested functions or classes)."""
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            stack.extend(node.decorator_list)
            if isinstance(node, ast.FunctionDef):
                stack.extend([*node.args.defaults, *filter(None, node.args.kw_defaults)])
            else:
                stack.extend(node.bases)
        elif isinstance(node, ast.Lambda):
            stack.extend([*node.args.defaults, *filter(None, node.args.kw_defaults)])
        elif isinstance(node, _NESTED):
            stack.append(node.generators[0].iter)  # the only part run in the outer scope
        else:
            stack.extend(ast.iter_child_nodes(node))


def assigned_names(body: list[ast.stmt]) -> frozenset[str]:
    """Names a body binds: Python makes them local to the function wherever they are bound."""
    names: set[str] = set()
    for node in _body_nodes(body):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef | ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.alias):
            names.add(node.asname or node.name.split(".")[0])
    return frozenset(names)


def _declared(body: list[ast.stmt]) -> tuple[frozenset[str], frozenset[str]]:
    found: dict[type, set[str]] = {ast.Global: set(), ast.Nonlocal: set()}
    for node in _body_nodes(body):
        if isinstance(node, ast.Global | ast.Nonlocal):
            found[type(node)].update(node.names)
    return frozenset(found[ast.Global]), frozenset(found[ast.Nonlocal])


# -- calling ------------------------------------------------------------------------------


def call(interpreter: Interpreter, function: ScriptFunction, args: tuple, kwargs: dict) -> Any:
    """Run function's body on args and kwargs; what it returns."""
    try:
        bound = function.signature.bind(*args, **kwargs)
    except TypeError as error:
        raise ScriptError(f"{function.name}(): {error}", kind=TypeError) from None
    bound.apply_defaults()
    local = dict(bound.arguments)
    first = next(iter(local.values()), None)
    scope = _replace(function.scope, function=function, first=first)
    caller = interpreter.current_line
    try:
        with _frame(interpreter, local, scope), _mode(function.grad_mode):
            try:
                if isinstance(function.node, ast.Lambda):
                    return interpreter.evaluate(function.node.body)
                interpreter.block(function.node.body)
            except Return as returned:
                return returned.value
    except ScriptError as error:
        _called_from(error, function, caller)
        raise
    return None


def _called_from(error: ScriptError, function: ScriptFunction, caller: int) -> None:
    """Say which call of which function a mistake inside it came from, as a traceback's last
    two lines would: the mistake's own line, and where the function was called."""
    problem = error.problem
    if getattr(error, "called_from", None) is not None or not problem.line or not caller:
        return
    if caller == problem.line:
        return
    error.called_from = caller  # type: ignore[attr-defined]
    where = f"in {function.qualname}, called from line {caller}"
    problem.hint = f"{problem.hint}; {where}" if problem.hint else where


def _replace(scope: Scope, **changes: Any) -> Scope:
    return replace(scope, **changes)


@contextmanager
def _frame(interpreter: Interpreter, local: dict, scope: Scope) -> Iterator[None]:
    """Run with local as the current names, one call deeper, and come back to the caller's
    names, line and statement, whatever happens."""
    limit = interpreter.limits.max_call_depth
    if interpreter.depth >= limit:
        raise LimitError(
            f"functions called each other more than {limit} deep",
            hint="recursion needs a case that stops it; or use a loop",
        )
    saved = interpreter.env, interpreter.scope, interpreter.position(), interpreter.looping
    interpreter.env, interpreter.scope = local, scope
    interpreter.depth += 1
    try:
        yield
    finally:
        interpreter.depth -= 1
        interpreter.env, interpreter.scope = saved[0], saved[1]
        interpreter.restore_position(saved[2])
        interpreter.looping = saved[3]


@contextmanager
def body_scope(interpreter: Interpreter, local: dict, scope: Scope) -> Iterator[None]:
    """A class body or a comprehension: names of its own, in a scope of its own."""
    with _frame(interpreter, local, scope):
        yield


@contextmanager
def _mode(mode: Any) -> Iterator[None]:
    if mode is None:
        yield
        return
    with type(mode)():  # a mode of its own per call: one keeps the state it replaced
        yield


def return_statement(interpreter: Interpreter, statement: ast.Return) -> None:
    raise Return(None if statement.value is None else interpreter.evaluate(statement.value))


def declaration(interpreter: Interpreter, statement: ast.Global | ast.Nonlocal) -> None:
    """global and nonlocal: read when the function is defined, nothing to do when run."""


# -- names --------------------------------------------------------------------------------

MISSING = object()


def lookup(interpreter: Interpreter, name: str) -> Any:
    """The value name has where the script runs now, or MISSING; ScriptError for a local
    used before it is assigned."""
    scope = interpreter.scope
    if scope is None:
        return interpreter.env.get(name, MISSING)
    if name in interpreter.env and name not in scope.declared_global:
        return interpreter.env[name]
    if name in scope.local and scope.function is not None:
        raise ScriptError(
            f"local variable {name} is used before it is assigned",
            hint=f"assign {name} before this line, or declare it global {name}",
            kind=NameError,
        )
    if name not in scope.declared_global:
        for names in scope.enclosing:
            if name in names:
                return names[name]
    return interpreter.globals.get(name, MISSING)


def names_for_store(interpreter: Interpreter, name: str) -> dict:
    """The dict an assignment to name writes into: locals, globals or an enclosing function's."""
    scope = interpreter.scope
    if scope is None:
        return interpreter.env
    if name in scope.declared_global:
        return interpreter.globals
    if name in scope.declared_nonlocal:
        for names in scope.enclosing:
            if name in names:
                return names
        raise ScriptError(f"no binding for nonlocal {name} found", kind=NameError)
    return interpreter.env
