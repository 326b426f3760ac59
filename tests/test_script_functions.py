"""Functions and classes a script defines: each runs as Python runs it, within limits.

Every script in CORPUS runs twice, through the app and as plain Python (`exec`), and must
print the same; the graphs scripts make inside their functions and modules are torch's own.
"""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn

from explorer.lang.limits import Limits
from explorer.runs.session import run_script
from tests.compare import problem_of as _problem
from tests.compare import python_prints as _python_prints
from tests.compare import script_prints as _script_prints

CORPUS: dict[str, str] = {
    "defaults_and_keywords": """
def square(x, power=2, *rest, scale=1.0, **extra):
    return scale * x ** power, len(rest), sorted(extra)
print(square(3), square(3, 3), square(2, scale=0.5), square(x=4))
print(square(1, 2, 3, 4, a=1, **{"b": 2}))
def kw_only(a, *, b=2):
    return a + b
print(kw_only(1), kw_only(1, b=5))
def positional_only(a, b, /, c=3):
    return a, b, c
print(positional_only(1, 2), positional_only(1, 2, c=4))
def mutable_default(item, bucket=[]):
    bucket.append(item)
    return bucket
_ = mutable_default(1)
print(mutable_default(2))
""",
    "lambda_and_sort_keys": """
f = lambda a, b=1: a + b
print(f(1), f(1, 2), (lambda: 7)())
pairs = [(3, "c"), (1, "a"), (2, "b")]
print(sorted(pairs, key=lambda p: p[0]), max(pairs, key=lambda p: p[1]))
words = ["bb", "a", "ccc"]
words.sort(key=lambda w: -len(w))
print(words, min(words, key=len))
""",
    "closures_nonlocal_global": """
def make_counter(start=0):
    count = start
    def step(by=1):
        nonlocal count
        count += by
        return count
    return step
c = make_counter(10)
_ = c()
_ = c(5)
print(c())
total = 0
def add(n):
    global total
    total += n
    return total
_ = add(3)
print(add(4), total)
def adders():
    return [lambda x, k=k: x + k for k in range(3)]
print([g(10) for g in adders()])
def late():
    fs = [lambda: i for i in range(3)]
    return [g() for g in fs]
print(late())
def outer():
    x = 1
    def inner():
        return x
    x = 2
    return inner()
print(outer())
""",
    "recursion": """
def fact(n):
    return 1 if n <= 1 else n * fact(n - 1)
def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)
print(fact(20), fib(15))
def flatten(xs):
    out = []
    for x in xs:
        if isinstance(x, list):
            out.extend(flatten(x))
        else:
            out.append(x)
    return out
print(flatten([1, [2, [3, [4]]], 5]))
""",
    "return_through_loops_and_try": """
def first_even(xs):
    for x in xs:
        try:
            if x % 2 == 0:
                return x
        finally:
            print("checked", x)
    return None
print(first_even([1, 3, 4, 5]))
def find(d, key):
    while True:
        if key in d:
            return d[key]
        key = key - 1
print(find({1: "one"}, 5))
def safe_div(a, b):
    try:
        return a / b
    except ZeroDivisionError as e:
        return str(e)
print(safe_div(1, 2), safe_div(1, 0))
""",
    "functions_of_tensors": """
_ = torch.manual_seed(0)
def mse(pred, target):
    return ((pred - target) ** 2).mean()
def linear(x, w, b):
    return x @ w + b
x = torch.randn(8, 3)
y = torch.randn(8, 1)
w = torch.randn(3, 1, requires_grad=True)
b = torch.zeros(1, requires_grad=True)
for step in range(3):
    loss = mse(linear(x, w, b), y)
    loss.backward()
    with torch.no_grad():
        w -= 0.1 * w.grad
        b -= 0.1 * b.grad
    w.grad.zero_()
    b.grad.zero_()
    print(step, f"{loss.item():.5f}")
print([round(v, 4) for v in w.flatten().tolist()])
""",
    "grad_mode_decorator": """
x = torch.ones(2, requires_grad=True)
@torch.no_grad()
def frozen(t):
    return (t * 2).requires_grad
@torch.no_grad
def frozen_too(t):
    return (t * 2).requires_grad
def tracked(t):
    return (t * 2).requires_grad
print(frozen(x), frozen_too(x), tracked(x), torch.is_grad_enabled())
""",
    "module_subclass": """
_ = torch.manual_seed(0)
class MLP(nn.Module):
    def __init__(self, n_in, n_hidden=8, n_out=1):
        super().__init__()
        self.fc1 = nn.Linear(n_in, n_hidden)
        self.fc2 = nn.Linear(n_hidden, n_out)
        self.n_hidden = n_hidden
        self._scale = 0.5
    def forward(self, x):
        return self.fc2(self.activation(self.fc1(x))) * self._scale
    def activation(self, h):
        return torch.tanh(h)
model = MLP(3)
print(model)
x = torch.randn(5, 3)
loss = model(x).pow(2).mean()
loss.backward()
print(model.n_hidden, model.fc1.weight.grad.shape, isinstance(model, nn.Module))
print(isinstance(model, MLP), isinstance(x, MLP))
print(sorted(name for name, p in model.named_parameters()))
print(f"{loss.item():.6f}", f"{model.fc1.weight.grad.abs().sum().item():.6f}")
print(len(list(model.parameters())), model.training)
_ = model.eval()
print(model.training, model.forward(x).shape)
""",
    "module_with_module_list_and_class_attribute": """
_ = torch.manual_seed(1)
class Block(nn.Module):
    expansion = 2
    def __init__(self, width):
        super(Block, self).__init__()
        self.inner = nn.Linear(width, width * self.expansion)
        self.outer = nn.Linear(width * Block.expansion, width)
    def forward(self, x):
        return x + self.outer(torch.relu(self.inner(x)))
class Tower(nn.Module):
    def __init__(self, width, depth):
        super().__init__()
        self.blocks = nn.ModuleList([Block(width) for _ in range(depth)])
        self.head = nn.Linear(width, 1)
    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.head(x)
net = Tower(4, 3)
out = net(torch.randn(2, 4)).sum()
out.backward()
print(len(net.blocks), sum(p.numel() for p in net.parameters()))
print(f"{out.item():.6f}", f"{net.blocks[0].inner.weight.grad.norm().item():.6f}")
""",
    "inheritance_and_super_methods": """
class Animal:
    legs = 4
    def __init__(self, name):
        self.name = name
    def describe(self):
        return f"{self.name} has {self.legs} legs"
class Bird(Animal):
    legs = 2
    def __init__(self, name, flies=True):
        super().__init__(name)
        self.flies = flies
    def describe(self):
        return super().describe() + (" and flies" if self.flies else "")
b = Bird("robin")
print(b.describe(), Animal("cat").describe(), isinstance(b, Animal), isinstance(b, Bird))
print(isinstance(Animal("dog"), Bird), b.legs, Animal.legs)
b.name = "kiwi"
b.flies = False
print(b.describe())
""",
    "plain_data_class": """
class Config:
    lr = 0.1
    steps = 3
    def __init__(self, **overrides):
        for key, value in overrides.items():
            if key == "lr":
                self.lr = value
            elif key == "steps":
                self.steps = value
cfg = Config(lr=0.5)
print(cfg.lr, cfg.steps, Config.lr)
Config.steps = 5
print(Config().steps, cfg.steps)
class Stack:
    def __init__(self):
        self.items = []
    def push(self, x):
        self.items.append(x)
        return self
    def size(self):
        return len(self.items)
s = Stack().push(1).push(2)
print(s.size(), s.items)
push = s.push
_ = push(3)
print(s.size())
""",
    "weight_tying": """
_ = torch.manual_seed(0)
class TiedLM(nn.Module):
    def __init__(self, vocab, dim):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.dec = nn.Linear(dim, vocab, bias=False)
        self.dec.weight = self.emb.weight
    def forward(self, tokens):
        return self.dec(self.emb(tokens))
lm = TiedLM(5, 3)
print(lm.dec.weight is lm.emb.weight, len(list(lm.parameters())))
loss = lm(torch.tensor([0, 1, 2])).logsumexp(dim=-1).sum()
loss.backward()
print(f"{lm.emb.weight.grad.abs().sum().item():.6f}")
enc = nn.Linear(3, 3)
dec = nn.Linear(3, 3)
dec.weight = enc.weight
print(dec.weight is enc.weight)
""",
    "annotations": """
def scale(x: float, by: float = 2.0) -> float:
    return x * by
count: int = 3
label: str
print(scale(count), count)
class Pair:
    first: int = 1
    def __init__(self, second: int) -> None:
        self.second = second
print(Pair(2).first, Pair(2).second)
""",
    "fstrings_everywhere": """
def describe(t):
    return f"shape={tuple(t.shape)} mean={t.mean().item():.3f}"
names = [f"layer{i}" for i in range(3)]
table = {f"w{i}": i * i for i in range(3)}
x = torch.arange(6.0).reshape(2, 3)
message = f"{describe(x)} | {names[-1]!r} | {table}"
print(message)
""",
    "tensor_hooks": """
x = torch.tensor([1.0, 2.0], requires_grad=True)
y = x * 3
seen = []
def double(g):
    seen.append(g.tolist())
    return g * 2
handle = y.register_hook(double)
y.retain_grad()
z = (y ** 2).sum()
z.backward(retain_graph=True)
print(seen, x.grad.tolist(), y.grad.tolist())
handle.remove()
x.grad = None
z.backward()
print(seen, x.grad.tolist())
p = nn.Parameter(torch.ones(2))
_ = p.register_post_accumulate_grad_hook(lambda t: print("accumulated", t.grad.tolist()))
(p * 2).sum().backward()
""",
    "module_hooks": """
_ = torch.manual_seed(0)
m = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
log = []
def forward_hook(module, inputs, output):
    log.append(("forward", module.out_features, tuple(output.shape)))
def pre_hook(module, inputs):
    log.append(("pre", len(inputs)))
def backward_hook(module, grad_input, grad_output):
    log.append(("backward", tuple(grad_output[0].shape)))
handles = [m[0].register_forward_hook(forward_hook), m.register_forward_pre_hook(pre_hook)]
handles.append(m[2].register_full_backward_hook(backward_hook))
loss = m(torch.ones(4, 2)).sum()
loss.backward()
print(log)
print(f"{m[0].weight.grad.sum().item():.6f}")
for h in handles:
    h.remove()
log.clear()
m(torch.ones(1, 2)).sum().backward()
print(log)
""",
    "hook_errors_are_the_scripts": """
x = torch.ones(2, requires_grad=True)
y = x * 2
def refuse(g):
    raise ValueError("no gradient today")
_ = y.register_hook(refuse)
try:
    y.sum().backward()
except ValueError as e:
    print("caught:", e)
""",
    "for_else": """
for i in range(3):
    if i == 5:
        break
else:
    print("no break", i)
for i in range(3):
    if i == 1:
        break
else:
    print("never")
print(i)
""",
    "del_items": """
xs = [0, 1, 2, 3, 4]
del xs[0]
del xs[1:3]
d = {"a": 1, "b": 2}
del d["a"]
print(xs, d)
try:
    del d["zz"]
except KeyError as e:
    print("missing", e)
""",
    "random_generators": """
g = torch.Generator().manual_seed(2147483647)
print(torch.randn(2, 3, generator=g))
p = torch.softmax(torch.randn(5, generator=g), dim=0)
print(torch.multinomial(p, 4, replacement=True, generator=g))
print(torch.normal(0.0, 0.5, size=(2, 2), generator=g), g.initial_seed())
""",
    "jacobians_and_hessians": """
from torch.autograd.functional import hessian, hvp, jacobian, vjp
import torch.autograd.functional as AF
def f(x):
    return torch.stack([x[0] * x[1], x[1].sin(), x.sum()])
def energy(x, y):
    return (x ** 2).sum() * y.prod()
point = torch.tensor([1.0, 2.0])
print(jacobian(f, point))
print(hessian(energy, (point, torch.tensor([3.0]))))
print(hvp(lambda x: (x ** 3).sum(), point, torch.ones(2)))
print(vjp(f, point, torch.ones(3)))
print(AF.jacobian(lambda x: x.exp(), point, create_graph=True).requires_grad)
print(jacobian(nn.Linear(2, 2).requires_grad_(False), point).shape)
""",
    "generators_consumed_as_python_consumes_them": """
seen = []
def check(v):
    seen.append(v)
    return v > 1
xs = [1.0, 2.0, 3.0]
print(any(check(x) for x in xs), seen)
print(all(check(x) for x in [3.0, 0.5, 4.0]), seen)
print(sum(x * y for x in xs for y in xs if x != y), max(-x for x in xs), min(x for x in xs))
weights = [torch.full((2,), float(i), requires_grad=True) for i in range(3)]
penalty = sum((w ** 2).sum() for w in weights)
penalty.backward()
print(penalty, [w.grad.tolist() for w in weights])
print(penalty.grad_fn.next_functions[0][0].name())
""",
    "custom_autograd_functions": """
class Scale(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, factor):
        ctx.factor = factor
        ctx.save_for_backward(x)
        return x * factor
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        print("needs", ctx.needs_input_grad, tuple(x.shape))
        return grad * ctx.factor, None
x = torch.ones(3, requires_grad=True)
y = Scale.apply(x, 3.0)
y.sum().backward()
print(x.grad, y.grad_fn.name())
class Cube(torch.autograd.Function):
    @staticmethod
    def forward(x):
        return x ** 3
    @staticmethod
    def setup_context(ctx, inputs, output):
        (x,) = inputs
        ctx.save_for_backward(x)
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x ** 2
z = torch.tensor([2.0], requires_grad=True)
Cube.apply(z).backward()
print(z.grad)
""",
}


@pytest.mark.parametrize("name", list(CORPUS))
def test_script_prints_what_python_prints(name: str) -> None:
    code = CORPUS[name]
    assert _script_prints(code) == _python_prints(code)


def test_a_script_module_is_a_real_module_with_named_calls() -> None:
    snapshot = run_script(CORPUS["module_subclass"])
    assert snapshot.problem is None
    leaves = {d.get("label") for _, d in snapshot.graph.nodes(data=True)}
    assert {"model.fc1.weight", "model.fc2.bias"} <= leaves
    calls = {c for _, d in snapshot.graph.nodes(data=True) for c in d.get("calls", ())}
    assert {"model", "model.fc1"} <= calls or any("fc1" in str(c) for c in calls)


def test_gradients_through_a_script_module_are_torchs() -> None:
    code = CORPUS["module_with_module_list_and_class_attribute"]
    snapshot = run_script(code)
    assert snapshot.problem is None

    class Block(nn.Module):
        expansion = 2

        def __init__(self, width: int) -> None:
            super().__init__()
            self.inner = nn.Linear(width, width * 2)
            self.outer = nn.Linear(width * 2, width)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x + self.outer(torch.relu(self.inner(x)))

    class Tower(nn.Module):
        def __init__(self, width: int, depth: int) -> None:
            super().__init__()
            self.blocks = nn.ModuleList([Block(width) for _ in range(depth)])
            self.head = nn.Linear(width, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            for block in self.blocks:
                x = block(x)
            return self.head(x)

    torch.manual_seed(1)
    net = Tower(4, 3)
    net(torch.randn(2, 4)).sum().backward()
    assert len(snapshot.passes) == 1
    ours = snapshot.grads["net.blocks.0.inner.weight"]
    assert ours is not None and ours.values is not None
    expected = net.blocks[0].inner.weight.grad
    assert torch.allclose(torch.as_tensor(ours.values).reshape(expected.shape), expected)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("def f(a):\n    return a\nf()", "missing a required argument: 'a'"),
        ("def f(a):\n    return a\nf(1, 2)", "too many positional arguments"),
        ("def f(a):\n    return a\nf(1, b=1)", "unexpected keyword argument 'b'"),
        ("def f():\n    print(x)\n    x = 1\nf()", "local variable x is used before"),
        ("class A:\n    pass\nA(1)", "A() takes no arguments"),
        ("class A:\n    pass\nA().missing", "A has no attribute missing"),
        ("class M(nn.Module):\n    pass\nM()(torch.ones(1))", "M has no forward method"),
        (
            "class M(nn.Module):\n    def __init__(self):\n        self.w = 1\nM()",
            "must call super().__init__()",
        ),
        ("def f():\n    return g()\nf()", "name g is not defined"),
        ("super()", "super() works inside the methods of a class"),
        ("def d(f):\n    return f\n@d\ndef g():\n    pass", "the only decorators"),
    ],
)
def test_mistakes_get_one_clear_message(code: str, message: str) -> None:
    assert message in _problem(code)


def test_an_error_inside_a_function_points_at_its_line() -> None:
    snapshot = run_script("def f(x):\n    y = x + 1\n    return y.missing\nf(torch.ones(1))")
    assert snapshot.problem is not None
    assert (snapshot.problem.line, snapshot.problem.column) == (3, 14)


def test_recursion_stops_at_the_call_depth_limit() -> None:
    code = "def depth(n):\n    return n if n == 0 else depth(n - 1)\nprint(depth({}))"
    limit = Limits().max_call_depth
    assert _script_prints(code.format(limit - 1)) == [str(0)]
    message = _problem(code.format(limit + 5))
    assert f"more than {limit} deep" in message


def test_lines_after_a_call_are_the_callers() -> None:
    code = "def f():\n    return 1\n\nx = f()\nprint(x)"
    snapshot = run_script(code)
    assert [(o.line, o.text) for o in snapshot.outputs] == [(5, "1")]


def test_a_function_sees_the_script_names_when_called_not_when_defined() -> None:
    code = "def f():\n    return n * 2\nn = 1\na = f()\nn = 5\nprint(a, f())"
    assert _script_prints(code) == _python_prints(code)


def test_function_locals_do_not_leak_into_the_script_names() -> None:
    snapshot = run_script("def f(a):\n    b = a + 1\n    return b\nc = f(1)\nprint(c)")
    assert snapshot.problem is None
    problem = _problem("def f(a):\n    b = a + 1\n    return b\nc = f(1)\nprint(b)")
    assert "name b is not defined" in problem


def test_a_script_module_is_not_run_twice_to_size_it() -> None:
    code = (
        "calls = []\n"
        "class M(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.fc = nn.Linear(300, 300)\n"
        "    def forward(self, x):\n"
        "        calls.append(1)\n"
        "        return self.fc(x)\n"
        "m = M()\n"
        "y = m(torch.ones(300, 300))\n"
        "print(len(calls))\n"
    )
    assert _script_prints(code) == ["1"]


def test_functions_print_as_python_prints_them() -> None:
    code = (
        "x = torch.ones(2)\n"
        "print(torch.exp, x.sum, F.relu)\n"
        "print(str(nn.Linear), repr(math.sqrt), len)\n"
        "def f():\n"
        "    pass\n"
        "print(f, lambda: 1)\n"
    )

    def unplaced(lines: list[str]) -> list[str]:
        return [re.sub(r" at 0x[0-9a-f]+", " at 0x…", line) for line in lines]

    assert unplaced(_script_prints(code)) == unplaced(_python_prints(code))


def test_a_mistake_inside_a_function_names_the_call_it_came_from() -> None:
    code = (
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.fc = nn.Linear(2, 2)\n"
        "    def forward(self, x):\n"
        "        return self.fc(x)\n"
        "net = Net()\n"
        "out = net(torch.ones(3))\n"
    )
    problem = run_script(code).problem
    assert problem is not None
    assert (problem.line, problem.column) == (6, 16)
    assert problem.hint.startswith("the layer takes 2 input features")  # its own hint first
    assert problem.hint.endswith("; in Net.forward, called from line 8")
