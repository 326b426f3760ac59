"""Ordinary Python control flow and data in scripts: each runs as Python runs it, within limits.

Every script in CORPUS runs twice: through the app (`run_script`) and as plain Python with
`exec` over the names the interpreter pre-binds; what each prints must be the same.
"""

from __future__ import annotations

import ast
import time

import pytest

from explorer.lang import containers, tables
from explorer.lang.errors import ScriptError
from explorer.lang.limits import Limits
from explorer.lang.parse import parse
from explorer.lang.precheck import precheck
from explorer.runs.session import run_script
from tests.compare import interpreter_of as _interpreter
from tests.compare import problem_of as _problem
from tests.compare import python_prints as _python_prints
from tests.compare import script_prints as _script_prints

CORPUS: dict[str, str] = {
    "underscore_names": """
for _ in range(3):
    print(_)
_x = 2
_total = _x * 3
print(_x, _total)
""",
    "list_comprehensions": """
xs = [1, 2, 3, 4]
print([x * x for x in xs])
print([x for x in xs if x % 2 == 0])
print([(i, j) for i in range(3) for j in range(i) if i != j])
print([[i * j for j in range(3)] for i in range(2)])
print([a + b for a, b in zip(xs, xs)])
""",
    "dict_and_set_comprehensions": """
squares = {n: n * n for n in range(5) if n != 2}
print(squares)
print({n % 3 for n in range(10)})
print(sorted({k: v for k, v in squares.items() if v > 1}))
""",
    "generator_expressions": """
xs = [1.0, 2.0, 3.0]
print(sum(x * x for x in xs))
print(any(x > 2 for x in xs), all(x > 2 for x in xs))
print(max(abs(x - 2) for x in xs))
t = torch.stack([torch.ones(2) * i for i in range(3)])
print(t.sum().item())
print(torch.cat(list(torch.zeros(1) + i for i in range(3))).tolist())
""",
    "comprehension_scope": """
i = 7
l = [i for i in range(3)]
print(i, l)
total = [x for x in [i, i + 1]]
print(total)
try:
    print(j)
except NameError:
    print("j is not defined")
k = [j for j in range(2)]
try:
    print(j)
except NameError:
    print("still not defined")
""",
    "while_loops": """
n = 0
while n < 10:
    n += 1
    if n == 3:
        continue
    if n == 6:
        break
    print(n)
else:
    print("no break")
m = 0
while m < 3:
    m += 1
else:
    print("ended with", m)
""",
    "dicts": """
d = {"a": 1, "b": 2}
d["c"] = 3
d["a"] += 10
print(d, len(d), "a" in d, "z" not in d)
print(list(d.keys()), list(d.values()), list(d.items()))
print(d.get("a"), d.get("z"), d.get("z", 0))
d.update({"z": 26})
d.update(y=25)
print(d.pop("b"), d.setdefault("q", []), d.setdefault("a", 0))
for key in d:
    print(key, d[key])
for key, value in d.items():
    print(key, value)
print(dict(a=1), dict([("x", 1), ("y", 2)]), dict(d) == d, {**d, "n": 1}["n"])
print({(1, 2): "pair", 3.5: "float", None: "none"}[(1, 2)], dict(value=3, other=2))
d.update(other=1)
print(d["other"])
counts = {}
for word in "the cat the dog".split():
    counts[word] = counts.get(word, 0) + 1
print(counts)
""",
    "sets": """
s = {3, 1, 2}
s.add(4)
s.add(1)
print(sorted(s), len(s), 2 in s, 9 in s)
print(sorted(set([1, 1, 2])), set(), sorted(set(range(4))))
s.discard(3)
for x in sorted(s):
    print(x)
""",
    "list_methods": """
l = [3, 1, 2]
l.append(5)
l.extend([9, 0])
l.insert(1, 7)
print(l, l.pop(), l.pop(0), l.index(2), l.count(1))
l.reverse()
print(l)
l.sort()
print(l)
l.sort(reverse=True)
print(l)
""",
    "try_except": """
try:
    x = 1 / 0
except ZeroDivisionError:
    print("divided by zero")
try:
    raise ValueError("bad value")
except (ValueError, RuntimeError) as e:
    print(str(e), e, repr(e), e.args)
try:
    [1][5]
except IndexError:
    print("index")
try:
    {}["k"]
except KeyError:
    print("key")
except Exception:
    print("not reached")
try:
    y = 1
except Exception:
    print("not reached")
else:
    print("else", y)
finally:
    print("finally")
try:
    raise RuntimeError("first")
except:
    print("bare")
try:
    try:
        raise ValueError("inner")
    except ValueError:
        print("handled, raising again")
        raise
except ValueError as outer:
    print("outer", outer)
try:
    assert 1 == 2, "one is not two"
except AssertionError as e:
    print("assert", e)
try:
    try:
        raise RuntimeError("passes through")
    except ValueError:
        print("not reached")
    finally:
        print("inner finally")
except RuntimeError as e:
    print("caught", e)
for i in range(5):
    try:
        if i == 1:
            continue
        if i == 3:
            break
        print("body", i)
    finally:
        print("finally", i)
try:
    raise ValueError
except ValueError as e:
    print("empty", repr(str(e)))
print(isinstance(ValueError("x"), Exception), isinstance(ValueError("x"), RuntimeError))
""",
    "torch_errors_are_runtime_errors": """
x = torch.ones(2, requires_grad=True)
y = (x * x).sum()
y.backward()
try:
    y.backward()
except RuntimeError:
    print("the graph was freed")
try:
    torch.ones(2) @ torch.ones(3)
except RuntimeError:
    print("shapes do not match")
""",
    "builtins": """
xs = [3, 1, 2]
print(sorted(xs), sorted(xs, reverse=True), list(reversed(xs)), sorted({"b": 1, "a": 2}))
print(any([]), all([]), any([0, 1]), all([1, 0]))
print(sorted(["ccc", "a", "bb"], key=len), max([-5, 2], key=abs), min(["xx", "y"], key=len))
ys = [3, -4, 1]
ys.sort(key=abs, reverse=True)
print(ys)
print(isinstance(torch.ones(1), torch.Tensor), isinstance(3, torch.Tensor))
print(isinstance(nn.Linear(1, 1), nn.Linear), isinstance(nn.ReLU(), (nn.Linear, nn.ReLU)))
print(isinstance(3, (int, float)), isinstance(2.5, int), isinstance("a", str))
print(isinstance(nn.Parameter(torch.ones(1)), torch.Tensor), isinstance([1], list))
print(int("3") + 1, float("2.5") * 2, int(" 7 "), str(12) + "!", bool(0), int(2.9))
""",
    "strings": """
name = "  Adam Optimizer "
print(name.strip(), name.lower(), name.upper(), name.lstrip(), name.rstrip() + "|")
print("a,b,,c".split(","), "a b  c".split(), "a-b-c".split("-", 1))
print(", ".join(["x", "y", "z"]), "".join(str(i) for i in range(4)))
print("loss".replace("s", "S"), "epoch 1".startswith("epoch"), "x.pt".endswith(".py"))
print("{} and {}".format(1, 2), "{0}{1}{0}".format("a", "b"))
print("{name}: {v:.3f}".format(name="lr", v=0.1))
print("{:>6}|{:<6}|{:^6}|".format("r", "l", "c"), "{!r}".format("q"))
print("x".ljust(4, ".") + "|", "x".rjust(4) + "|", "x".center(5, "*"))
print("%d items, %.2f loss, %s" % (3, 0.12345, "done"), "%5.1f%%" % 99.5, "%s" % "one")
loss = 0.25
message = f"loss {loss:.3f} at step {3:>4}"
print(message, len(message), f"{[1, 2]!r}")
""",
    "tutorial_style_training_loop": """
_ = torch.manual_seed(0)
model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
x = torch.randn(8, 3)
target = torch.randn(8, 1)
history = {"loss": []}
step = 0
while step < 3:
    loss = F.mse_loss(model(x), target)
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= 0.1 * p.grad
    history["loss"].append(round(loss.item(), 5))
    step += 1
sizes = {name: tuple(p.shape) for name, p in model.named_parameters()}
print(sizes)
print(len(history["loss"]), all(isinstance(v, float) for v in history["loss"]))
print(sum(p.numel() for p in model.parameters()))
linears = [m for m in model if isinstance(m, nn.Linear)]
print(len(linears))
""",
}


@pytest.mark.parametrize("name", list(CORPUS))
def test_script_prints_what_python_prints(name: str) -> None:
    code = CORPUS[name]
    assert _script_prints(code) == _python_prints(code)


@pytest.mark.parametrize("name", list(CORPUS))
def test_lesson_cells_accept_the_same_python(name: str) -> None:
    precheck(CORPUS[name])  # raises ScriptError if a cell with this code were refused


# -- limits -------------------------------------------------------------------------------------


def test_every_comprehension_iteration_and_item_is_counted() -> None:
    interpreter = _interpreter("a = [i * j for i in range(4) for j in range(5) if j]")
    assert interpreter.env["a"] == [i * j for i in range(4) for j in range(5) if j]
    assert interpreter.budget.iterations == 4 + 4 * 5
    assert interpreter.budget.items == 4 * 4 + 5  # and the argument of each range call
    assert "i" not in interpreter.env and "j" not in interpreter.env


def test_a_comprehension_stops_at_the_iteration_limit() -> None:
    limits = Limits(max_iterations=30)
    message = _problem("a = [i * j for i in range(5) for j in range(10)]", limits)
    assert "30 iterations" in message or "30 in total" in message


def test_a_comprehension_stops_at_the_item_limit() -> None:
    code = "a = [i for i in range(8) for j in range(2)]"
    message = _problem(code, Limits(max_python_items=10))
    assert "11 Python items" in message


def test_a_comprehension_of_a_billion_items_is_refused_before_building() -> None:
    start = time.perf_counter()
    message = _problem("a = [i for i in range(10**9)]")
    assert time.perf_counter() - start < 5.0
    assert "1,000,000,000 iterations" in message


def test_while_true_stops_at_the_iteration_limit() -> None:
    code = "n = 0\nwhile True:\n    n += 1"
    limits = Limits(max_iterations=1000)
    assert "1,000 iterations" in _problem(code, limits)
    with pytest.raises(ScriptError):
        _interpreter(code, limits)


def test_while_counts_each_iteration() -> None:
    interpreter = _interpreter("n = 0\nwhile n < 7:\n    n += 1")
    assert interpreter.budget.iterations == 7


@pytest.mark.parametrize(
    "handler", ["except:", "except Exception:", "except RuntimeError as e:"], ids=str
)
def test_try_cannot_catch_the_iteration_limit(handler: str) -> None:
    code = f"try:\n    while True:\n        pass\n{handler}\n    print('caught')\nfinally:\n"
    code += "    print('finally')"
    snapshot = run_script(code, Limits(max_iterations=100))
    assert snapshot.problem is not None and "100 iterations" in snapshot.problem.message
    assert snapshot.outputs == []


def test_try_cannot_catch_the_time_limit() -> None:
    code = (
        "while True:\n    try:\n        while True:\n            x = 1\n    except:\n        pass"
    )
    start = time.perf_counter()
    message = _problem(code, Limits(seconds=0.5, max_iterations=10**12))
    assert time.perf_counter() - start < 10.0
    assert "longer than 0.5 seconds" in message


def test_try_cannot_catch_the_memory_limit() -> None:
    code = "try:\n    x = torch.zeros(10**10)\nexcept Exception:\n    print('caught')"
    snapshot = run_script(code)
    assert snapshot.problem is not None and "elements" in snapshot.problem.message
    assert snapshot.outputs == []
    code = "try:\n    l = [0] * 10**9\nexcept:\n    print('caught')"
    assert "Python items" in _problem(code)


def test_built_strings_are_bounded_before_they_are_made() -> None:
    start = time.perf_counter()
    for code in (
        's = "a" * 10**9',
        'l = ["ab"] * 10**6\ns = ", ".join(l)',
        's = "x".ljust(10**9)',
        's = ("a" * 5000).replace("a", "aaa")',
        's = "{:>999999999}".format(1)',
        's = "%999999999d" % 1',
    ):
        assert "string" in _problem(code) or "format" in _problem(code), code
    assert time.perf_counter() - start < 10.0


@pytest.mark.parametrize(
    "code",
    ['s = "abc" + "def"', 's = "ab" * 3', 's = f"{123456}"', 's = "-".join(["abc", "de"])',
     's = "{}{}".format("abc", "def")', 's = "%s%s" % ("abc", "def")', 's = "abc".ljust(6)',
     'e = ValueError("abcdef")'],
)  # fmt: skip
def test_built_strings_are_held_to_the_runs_limit(code: str) -> None:
    assert "the limit is 5" in _problem(code, Limits(max_built_string=5))
    assert run_script(code, Limits(max_built_string=6)).problem is None


def test_number_text_is_bounded() -> None:
    assert "at most 100 characters" in _problem('n = int("1" * 5000)')


# -- what a caught error is -------------------------------------------------------------------


def test_a_caught_error_is_only_its_text() -> None:
    code = "try:\n    raise ValueError('no')\nexcept ValueError as e:\n    caught = e"
    interpreter = _interpreter(code)
    caught = interpreter.env["caught"]
    assert isinstance(caught, str) and str(caught) == "no"
    assert "e" not in interpreter.env  # unbound after the handler, as in Python 3
    for attribute in ("__traceback__", "__class__", "with_traceback", "kind"):
        assert _problem(code + f"\ncaught.{attribute}")


def test_a_missing_key_is_named_in_plain_words() -> None:
    assert _problem('d = {"a": 1}\nd["k"]') == "'k' is not in this dict or set"


def test_an_uncaught_raise_names_its_kind() -> None:
    assert _problem("raise ValueError('too small')") == "ValueError: too small"
    assert "inside except" in _problem("raise")


# -- what stays refused -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("def f():\n    yield 1", "yield (generator functions) is not available"),
        ("async def f():\n    pass", "async functions are not available"),
        ("return 1", "return works only inside a function"),
        ("__x = 1", "underscore (__x)"),
        ("x = torch.ones(1)\nx._version", "tensor._version is not available"),
        ("sorted([2, 1], key=print)", "cannot be passed as an argument"),
        ("d = {[1]: 2}", "cannot be a dictionary key"),
        ("isinstance(1, print)", "isinstance tests against"),
    ],
)
def test_what_the_language_still_refuses(code: str, message: str) -> None:
    assert message in _problem(code)


def test_method_tables_match_the_allow_lists() -> None:
    assert containers.METHOD_NAMES[list] == tables.LIST_METHODS
    assert containers.METHOD_NAMES[dict] == tables.DICT_METHODS
    assert containers.METHOD_NAMES[set] == tables.SET_METHODS
    assert containers.METHOD_NAMES[str] == tables.STR_METHODS


def test_comprehensions_and_try_are_in_the_parsers_allow_list() -> None:
    tree = parse("[x for x in range(2)]\ntry:\n    pass\nexcept:\n    pass", Limits())
    assert isinstance(tree.body[0].value, ast.ListComp)
