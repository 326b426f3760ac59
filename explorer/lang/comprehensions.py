"""Comprehensions and dict and set displays, each bounded by the run's iterations and items.

A generator expression is run at once into a list where it stands: scripts consume them
straight away (sum(x * x for x in xs), torch.stack([...])), and a list is bounded as made.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from explorer.lang import functions
from explorer.lang.builtins import bounded
from explorer.lang.containers import Lazy, check_key
from explorer.lang.errors import ScriptError
from explorer.lang.expressions import truth
from explorer.lang.statements import loop_over

if TYPE_CHECKING:
    from explorer.lang.interpreter import Interpreter


def lazy(interpreter: Interpreter, node: ast.GeneratorExp) -> Lazy:
    """A generator expression that sum, any, all, min or max consumes: each item is made when
    the builtin asks for it, as in Python, so the graph's nodes are made in Python's order
    (term, addition, term...) and any() stops making items at the first true one. Each step
    runs in the expression's own scope; between steps the caller's names are back."""
    first = loop_over(interpreter, node.generators[0].iter)
    local: dict = {}
    scope = functions.Scope(functions.inner_enclosing(interpreter))

    def inside(work: Callable[[], Any]) -> Any:
        with functions.body_scope(interpreter, local, scope):
            return work()

    def walk(index: int, iterable: Any) -> Iterator[Any]:
        generator, budget = node.generators[index], interpreter.budget
        if iterable is None:
            iterable = inside(lambda: loop_over(interpreter, generator.iter))
        for item in iterable:

            def step(item: Any = item) -> bool:
                budget.tick()
                budget.iterate()
                _bind(interpreter, generator.target, item)
                return all(truth(interpreter, test) for test in generator.ifs)

            if not inside(step):
                continue
            if index + 1 == len(node.generators):
                yield inside(lambda: interpreter.evaluate(node.elt))
            else:
                yield from walk(index + 1, None)

    return Lazy(walk(0, first))


def list_comp(interpreter: Interpreter, node: ast.ListComp | ast.GeneratorExp) -> list:
    result: list = []

    def produce() -> None:
        interpreter.budget.check_items(len(result) + 1)
        result.append(interpreter.evaluate(node.elt))

    _run(interpreter, node.generators, produce)
    interpreter.budget.charge_items(len(result))
    return result


def set_comp(interpreter: Interpreter, node: ast.SetComp) -> set:
    result: set = set()

    def produce() -> None:
        interpreter.budget.check_items(len(result) + 1)
        result.add(check_key(interpreter.evaluate(node.elt)))

    _run(interpreter, node.generators, produce)
    interpreter.budget.charge_items(len(result))
    return result


def dict_comp(interpreter: Interpreter, node: ast.DictComp) -> dict:
    result: dict = {}

    def produce() -> None:
        interpreter.budget.check_items(len(result) + 1)
        key = check_key(interpreter.evaluate(node.key))
        result[key] = interpreter.evaluate(node.value)

    _run(interpreter, node.generators, produce)
    interpreter.budget.charge_items(len(result))
    return result


def dict_of(interpreter: Interpreter, node: ast.Dict) -> dict:
    result: dict = {}
    for key_node, value_node in zip(node.keys, node.values, strict=True):
        value = interpreter.evaluate(value_node)
        if key_node is None:  # {**other}
            if not isinstance(value, dict):
                raise ScriptError("** in a dictionary needs a dictionary")
            interpreter.budget.check_items(len(result) + len(value))
            result.update(value)
            continue
        key = check_key(interpreter.evaluate(key_node))
        result[key] = value
    interpreter.budget.charge_items(len(result))
    return result


def set_of(interpreter: Interpreter, node: ast.Set) -> set:
    items: list = []
    for element in node.elts:
        if isinstance(element, ast.Starred):
            items.extend(bounded(interpreter.budget, interpreter.evaluate(element.value)))
        else:
            items.append(interpreter.evaluate(element))
        interpreter.budget.check_items(len(items))
    interpreter.budget.charge_items(len(items))
    return {check_key(item) for item in items}


def _run(interpreter: Interpreter, generators: list[ast.comprehension], produce: Callable) -> None:
    """Loop over generators, calling produce for each combination that passes the ifs, with
    the loop variables in a scope of their own, as in Python: a lambda made inside sees them,
    the names around do not. The first iterable is evaluated outside, as Python does."""
    first = loop_over(interpreter, generators[0].iter)
    scope = functions.Scope(functions.inner_enclosing(interpreter))
    with functions.body_scope(interpreter, {}, scope):
        _loop(interpreter, generators, 0, produce, first)


def _loop(
    interpreter: Interpreter,
    generators: list[ast.comprehension],
    index: int,
    produce: Callable,
    iterable: Any = None,
) -> None:
    if index == len(generators):
        produce()
        return
    generator, budget = generators[index], interpreter.budget
    if iterable is None:
        iterable = loop_over(interpreter, generator.iter)
    for item in iterable:
        budget.tick()
        budget.iterate()
        _bind(interpreter, generator.target, item)
        if all(truth(interpreter, test) for test in generator.ifs):
            _loop(interpreter, generators, index + 1, produce)


def _bind(interpreter: Interpreter, target: ast.expr, value: Any) -> None:
    """A comprehension's loop variable: bound for the comprehension, not shown as a name."""
    if isinstance(target, ast.Name):
        interpreter.env[target.id] = value
        return
    if not isinstance(target, ast.Tuple | ast.List):
        raise interpreter.locate(ScriptError("this cannot be a loop variable"), target)
    items = (
        list(bounded(interpreter.budget, value)) if not isinstance(value, list | tuple) else value
    )
    if len(items) != len(target.elts):
        message = f"cannot unpack {len(items)} values into {len(target.elts)} names"
        error = ScriptError(message, kind=ValueError)
        raise interpreter.locate(error, target)
    for element, one in zip(target.elts, items, strict=True):
        _bind(interpreter, element, one)
