"""Runs a checked script tree statement by statement: the only way script text is executed.

The interpreter holds a run's state (names, outputs, budget) and dispatches each node of the
tree to the function for its kind: statements, assignment, expressions, operators and calls
each have a module of their own, and every one of those functions takes the interpreter first.
"""

from __future__ import annotations

import ast
import weakref
from collections.abc import Callable
from typing import Any

import torch

from explorer.data.snapshot import Output, Problem
from explorer.lang import (
    assignment,
    classes,
    comprehensions,
    expressions,
    flow,
    functions,
    invocation,
    operators,
    statements,
)
from explorer.lang.autograd_calls import BackwardCall
from explorer.lang.builtins import make_builtins
from explorer.lang.errors import LimitError, ScriptError
from explorer.lang.hints import explain_python_error, script_error
from explorer.lang.limits import Budget, Limits
from explorer.lang.parse import position
from explorer.lang.statements import Break, Continue
from explorer.lang.values import FUNCTIONAL, NN, TORCH
from explorer.lang.watchdog import TimeUp, alarm, hard_stop

_PLAIN_ERRORS = (ArithmeticError, TypeError, ValueError, LookupError, RuntimeError)


class NullObserver:
    def bound(self, name: str, value: Any) -> None:
        pass

    def produced(self, value: Any) -> None:
        pass

    def inputs(self, result: Any, given: Any) -> None:
        pass

    def backward_pass(self, call: BackwardCall, line: int) -> None:
        call.run()


class Interpreter:
    """Executes statements over an environment of names; every value it touches is checked."""

    def __init__(self, source: str, limits: Limits | None = None, observer: Any = None) -> None:
        self.lines = source.splitlines()
        self.limits = limits or Limits()
        self.budget = Budget(self.limits)
        self.observer = observer or NullObserver()
        self.outputs: list[Output] = []
        self._output_chars = 0
        self._line = 0
        self._statement: ast.stmt | None = None  # the innermost statement running now
        self.handling: list[ScriptError] = []  # errors whose except is running, for raise
        # How a problem of this run is shown to the user, when the hard stop reports it from
        # another thread while the run is stuck in a call; None: where the interpreter puts it.
        self.place: Callable[[ScriptError], Problem] | None = None
        # A weak reference keeps the builtins from holding the interpreter in a cycle.
        printed = weakref.WeakMethod(self.printed)
        self.builtins = make_builtins(self.budget, lambda text: printed()(text))
        self.env: dict[str, Any] = {"torch": TORCH, "nn": NN, "F": FUNCTIONAL}
        self.globals = self.env  # env is the running function's locals; globals the script's
        self.scope: functions.Scope | None = None  # None at the script's top level
        self.depth = 0  # script functions running, one inside another
        self.looping = 0  # loops running around the statement at the top level
        self._running = False

    def run(self, tree: ast.Module) -> None:
        """Run tree within the time limit, inside its statements too (explorer/lang/watchdog.py)."""
        self.within_time(lambda: self.block(tree.body))

    def within_time(self, work: Callable[[], Any]) -> Any:
        """Run work within the run's time limit, inside its statements too
        (explorer/lang/watchdog.py); a run in progress goes on with its own."""
        if self._running:
            return work()
        limit = self.limits.seconds
        stop = hard_stop(limit + self.limits.grace_seconds, self._overrun_problem)
        self.budget.start()
        self._running = True
        try:
            with stop, alarm(limit):
                return work()
        except TimeUp:  # raised between our own lines, outside any statement
            raise self.time_up() from None
        finally:
            self._running = False

    def callback(self, work: Callable[[], Any]) -> Any:
        """A script function called from outside the interpreter (a hook in a backward pass
        requested after the run): within a time limit of its own, at the script's top level."""
        if self._running:
            return work()
        saved = self.env, self.scope
        self.env, self.scope = self.globals, None
        try:
            return self.within_time(work)
        finally:
            self.env, self.scope = saved

    def forget_names(self) -> None:
        """Let go of every name the script bound (its tensors, and the graphs they hold)."""
        self.env = self.globals = {}
        self.scope = None

    def block(self, body: list[ast.stmt]) -> None:
        for statement in body:
            self.budget.tick()
            self._line = statement.lineno
            self._statement = statement
            try:
                _STATEMENTS[type(statement)](self, statement)
            except ScriptError as error:
                raise self.locate(error, statement) from None
            except _PLAIN_ERRORS as error:
                raise self.locate(_plain(error), statement) from None
            except TimeUp:
                raise self.locate(self.budget.time_up(), statement) from None

    def evaluate(self, node: ast.expr) -> Any:
        try:
            return _EXPRESSIONS[type(node)](self, node)
        except ScriptError as error:
            raise self.locate(error, node) from None
        except (Break, Continue):
            raise
        except _PLAIN_ERRORS as error:
            raise self.locate(_plain(error), node) from None

    def position(self) -> tuple[int, ast.stmt | None]:
        """Where the run is: a call comes back here when its function returns."""
        return self._line, self._statement

    def restore_position(self, position: tuple[int, ast.stmt | None]) -> None:
        self._line, self._statement = position

    @property
    def current_line(self) -> int:
        """The line of the statement running now (0 before the first)."""
        return self._line

    def _overrun_problem(self) -> Problem:
        error = self.time_up()
        return error.problem if self.place is None else self.place(error)

    def time_up(self) -> ScriptError:
        """The time limit's error, at the statement running now."""
        error = self.budget.time_up()
        return error if self._statement is None else self.locate(error, self._statement)

    def locate(self, error: ScriptError, node: ast.AST) -> ScriptError:
        """error, placed at node unless it already has a place (the innermost wins)."""
        line, column = position(node, self._line)
        text = self.lines[line - 1] if 1 <= line <= len(self.lines) else ""
        return error.locate(line, column, text)

    def printed(self, text: str) -> None:
        """Record an output of the running line, within the limits on outputs."""
        if len(self.outputs) >= self.limits.max_outputs:
            raise LimitError(f"the script displayed more than {self.limits.max_outputs:,} outputs")
        self._output_chars += len(text)
        if self._output_chars > self.limits.max_output_chars:
            raise LimitError("the script displayed more than a million characters")
        self.outputs.append(Output(self._line, text))

    def produced(self, result: Any) -> None:
        """Tell the observer of a result, counting the graph operations the script makes."""
        if isinstance(result, torch.Tensor):
            if result.grad_fn is not None:
                self.budget.count_graph_op()
        elif isinstance(result, tuple | list) and len(result) <= _COUNTED_PARTS:
            # split, unbind, an LSTM's (output, (h, c)): one node may make several results,
            # and several nodes may be behind them; each distinct one is an operation
            nodes = {id(t.grad_fn) for t in _tensors_in(result) if t.grad_fn is not None}
            self.budget.charge_graph_ops(len(nodes))
        self.observer.produced(result)

    def given(self, result: Any, inputs: list[tuple[str | None, Any]]) -> None:
        """Tell the observer what made an operation's result, as (name or None, value): the
        graph shows a constant input as the script wrote it (`3`, `xs`)."""
        if isinstance(result, torch.Tensor) and result.grad_fn is not None:
            self.observer.inputs(result, inputs)


# Dispatch tables of module functions, not of bound methods: bound methods held by the
# instance would make every interpreter a reference cycle that only the cycle collector frees.
_STATEMENTS: dict[type, Callable[[Interpreter, Any], Any]] = {
    ast.Expr: statements.expr_statement, ast.Assign: assignment.assign,
    ast.AugAssign: assignment.aug_assign, ast.For: statements.for_loop,
    ast.If: statements.if_statement, ast.With: statements.with_statement,
    ast.Import: statements.import_statement, ast.ImportFrom: statements.import_from,
    ast.Pass: statements.pass_statement, ast.Break: statements.break_statement,
    ast.Continue: statements.continue_statement, ast.Assert: statements.assert_statement,
    ast.Delete: assignment.delete, ast.While: flow.while_loop, ast.Try: flow.try_statement,
    ast.Raise: flow.raise_statement, ast.FunctionDef: functions.function_def,
    ast.Return: functions.return_statement, ast.Global: functions.declaration,
    ast.Nonlocal: functions.declaration, ast.ClassDef: classes.class_def,
    ast.AnnAssign: assignment.annotated_assign,
}  # fmt: skip
_EXPRESSIONS: dict[type, Callable[[Interpreter, Any], Any]] = {
    ast.Constant: expressions.constant, ast.Name: expressions.name,
    ast.Attribute: expressions.attribute, ast.Subscript: expressions.subscript,
    ast.Slice: expressions.slice_of, ast.Call: invocation.call, ast.BinOp: operators.binop,
    ast.UnaryOp: expressions.unaryop, ast.BoolOp: expressions.boolop,
    ast.Compare: expressions.compare, ast.IfExp: expressions.ifexp,
    ast.Tuple: expressions.tuple_of, ast.List: expressions.list_of,
    ast.JoinedStr: expressions.joined_str, ast.ListComp: comprehensions.list_comp,
    ast.GeneratorExp: comprehensions.list_comp, ast.SetComp: comprehensions.set_comp,
    ast.DictComp: comprehensions.dict_comp, ast.Dict: comprehensions.dict_of,
    ast.Set: comprehensions.set_of, ast.Lambda: functions.lambda_of,
}  # fmt: skip


_COUNTED_PARTS = 10_000  # splits are refused past this many pieces (sizing.py)


def _tensors_in(result: tuple | list) -> list[torch.Tensor]:
    """The tensors of a call's result, one level of tuples deep (an LSTM's (h, c))."""
    found: list[torch.Tensor] = []
    for part in result:
        if isinstance(part, torch.Tensor):
            found.append(part)
        elif isinstance(part, tuple):
            found.extend(t for t in part if isinstance(t, torch.Tensor))
    return found


def _plain(error: Exception) -> ScriptError:
    message, hint = explain_python_error(error)
    return script_error(error, message, hint)
