"""Training loops in scripts: optimizers, schedules, clipping and batches, as PyTorch runs them.

Every script in CORPUS runs twice: through the app (`run_script`) and as plain PyTorch with
`exec` of the same text. Each prints its losses, learning rates, parameters and gradients as
Python floats (`tolist()`, every digit), so equal output means identical training.
"""

from __future__ import annotations

import pytest

from explorer.lang import tables, values
from explorer.lang.autograd_calls import recorded_bytes
from explorer.lang.errors import ScriptError
from explorer.lang.interpreter import Interpreter
from explorer.lang.limits import Limits
from explorer.lang.parse import parse
from explorer.lang.precheck import precheck
from explorer.runs.session import Session, run_script
from tests.compare import interpreter_of as _interpreter
from tests.compare import problem_of as _problem
from tests.compare import python_lines as _python_prints
from tests.compare import script_lines as _script_prints

_MODEL = """
gen = torch.manual_seed(0)
x = torch.randn(24, 2)
y = (x[:, :1] * 2 - x[:, 1:]).tanh()
model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
"""
_REPORT = """
for name, p in model.named_parameters():
    print(name, p.tolist(), p.grad.tolist())
"""


def _train(optimizer: str, steps: int = 6) -> str:
    return (
        _MODEL
        + f"opt = {optimizer}\n"
        + f"for step in range({steps}):\n"
        + "    opt.zero_grad()\n"
        + "    loss = F.mse_loss(model(x), y)\n"
        + "    loss.backward()\n"
        + "    opt.step()\n"
        + "    print(step, loss.item())\n"
        + _REPORT
    )


def _schedule(scheduler: str, step: str = "sched.step()") -> str:
    return (
        _MODEL
        + "opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)\n"
        + f"sched = {scheduler}\n"
        + "for epoch in range(8):\n"
        + "    opt.zero_grad()\n"
        + "    loss = F.mse_loss(model(x), y)\n"
        + "    loss.backward()\n"
        + "    opt.step()\n"
        + f"    {step}\n"
        + "    print(epoch, loss.item(), sched.get_last_lr(), sched.last_epoch)\n"
        + _REPORT
    )


OPTIMIZERS = {
    "sgd": "torch.optim.SGD(model.parameters(), lr=0.1)",
    "sgd_nesterov": "torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, "
    "weight_decay=0.01)",
    "sgd_foreach": "torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, foreach=True)",
    "adam": "torch.optim.Adam(model.parameters(), lr=0.01)",
    "adam_amsgrad": "torch.optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.9), amsgrad=True)",
    "adamw": "torch.optim.AdamW(model.parameters(), lr=0.01, weight_decay=0.1)",
    "rmsprop": "torch.optim.RMSprop(model.parameters(), lr=0.01, momentum=0.5, centered=True)",
    "adagrad": "torch.optim.Adagrad(model.parameters(), lr=0.1)",
    "adadelta": "torch.optim.Adadelta(model.parameters())",
    "adamax": "torch.optim.Adamax(model.parameters(), lr=0.01)",
    "nadam": "torch.optim.NAdam(model.parameters(), lr=0.01)",
    "radam": "torch.optim.RAdam(model.parameters(), lr=0.01)",
    "param_groups": "torch.optim.SGD([{'params': model[0].parameters(), 'lr': 0.05}, "
    "{'params': model[2].parameters()}], lr=0.1, momentum=0.9)",
}
LR_SCHEDULER = "torch.optim.lr_scheduler"
SCHEDULERS = {
    "step": f"{LR_SCHEDULER}.StepLR(opt, step_size=3, gamma=0.5)",
    "multistep": f"{LR_SCHEDULER}.MultiStepLR(opt, milestones=[2, 5], gamma=0.1)",
    "exponential": f"{LR_SCHEDULER}.ExponentialLR(opt, gamma=0.9)",
    "cosine": f"{LR_SCHEDULER}.CosineAnnealingLR(opt, T_max=8, eta_min=0.001)",
    "linear": f"{LR_SCHEDULER}.LinearLR(opt, start_factor=0.2, total_iters=4)",
    "constant": f"{LR_SCHEDULER}.ConstantLR(opt, factor=0.5, total_iters=3)",
    "one_cycle": f"{LR_SCHEDULER}.OneCycleLR(opt, max_lr=0.5, total_steps=8)",
    "warm_restarts": f"{LR_SCHEDULER}.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2)",
}

CORPUS: dict[str, str] = {
    **{f"optimizer_{name}": _train(text) for name, text in OPTIMIZERS.items()},
    **{f"scheduler_{name}": _schedule(text) for name, text in SCHEDULERS.items()},
    "scheduler_plateau": _schedule(
        f"{LR_SCHEDULER}.ReduceLROnPlateau(opt, factor=0.5, patience=0)",
        "sched.step(loss.item() * 0 + 1.0)",
    ),
    "imports": """
import torch.optim as optim
from torch import optim as optimizers
from torch.optim import SGD, lr_scheduler
from torch.optim.lr_scheduler import StepLR
from torch.nn.utils import clip_grad_norm_, clip_grad_value_
from torch.nn import utils
from torch.utils.data import DataLoader, TensorDataset, random_split
import torch.utils.data as data
print(optim.SGD == SGD, optimizers.Adam == optim.Adam, StepLR == lr_scheduler.StepLR)
print(utils.clip_grad_norm_ == clip_grad_norm_, nn.utils.clip_grad_value_ == clip_grad_value_)
print(data.DataLoader == DataLoader, torch.optim.lr_scheduler.StepLR == StepLR)
""",
    "clipping": _MODEL
    + """
from torch.nn.utils import clip_grad_norm_, clip_grad_value_, parameters_to_vector
opt = torch.optim.SGD(model.parameters(), lr=0.5)
for step in range(4):
    opt.zero_grad(set_to_none=step % 2 == 0)
    loss = F.mse_loss(model(x), y) * 10
    loss.backward()
    total = clip_grad_norm_(model.parameters(), max_norm=0.5)
    clip_grad_value_(model.parameters(), 0.05)
    print(total.item(), clip_grad_norm_(model[0].weight, 1.0, norm_type=1.0).item())
    opt.step()
flat = parameters_to_vector(model.parameters())
print(flat.shape, flat.tolist())
"""
    + _REPORT,
    "state_and_groups": _MODEL
    + """
opt = torch.optim.Adam(model.parameters(), lr=0.01)
print(len(opt.state), len(opt.param_groups), sorted(opt.param_groups[0].keys()))
for step in range(3):
    opt.zero_grad()
    loss = F.mse_loss(model(x), y)
    loss.backward()
    opt.step()
    for g in opt.param_groups:
        g["lr"] = g["lr"] * 0.5
    print(loss.item(), opt.param_groups[0]["lr"], opt.param_groups[0]["betas"])
state = opt.state[model[0].weight]
print(sorted(state.keys()), state["step"].item(), state["exp_avg"].tolist())
print(len(opt.state), [len(s) for s in opt.state.values()])
saved = opt.state_dict()
print(sorted(saved.keys()), saved["param_groups"][0]["params"], saved["param_groups"][0]["lr"])
print(saved["state"][1]["exp_avg_sq"].tolist())
extra = torch.zeros(3, requires_grad=True)
opt.add_param_group({"params": [extra], "lr": 0.1})
(extra * torch.arange(3.0)).sum().backward()
opt.step()
print(len(opt.param_groups), extra.tolist(), opt.param_groups[1]["betas"])
"""
    + _REPORT,
    "data_loader": """
from torch.utils.data import DataLoader, TensorDataset
gen = torch.manual_seed(1)
x = torch.randn(10, 3)
y = torch.arange(10.0).unsqueeze(1)
ds = TensorDataset(x, y)
print(len(ds), ds[3][1].tolist(), ds[-1][0].tolist(), len(ds.tensors))
plain = DataLoader(ds, batch_size=4)
print(len(plain), plain.batch_size, plain.drop_last, len(plain.dataset))
for xb, yb in plain:
    print(xb.shape, yb.flatten().tolist())
shuffled = DataLoader(ds, batch_size=3, shuffle=True, drop_last=True)
print(len(shuffled))
for epoch in range(3):
    for xb, yb in shuffled:
        print(epoch, yb.flatten().tolist(), xb.sum().item())
xb, yb = next(iter(shuffled))
print(yb.flatten().tolist())
batches = iter(DataLoader(ds, batch_size=6))
first = next(batches)
second = next(batches)
print(len(first), first[1].flatten().tolist(), second[1].flatten().tolist())
print(next(batches, "done"))
print([b[1].shape for b in DataLoader(ds, batch_size=5)])
for i, (xb, yb) in enumerate(DataLoader(ds, batch_size=4, shuffle=True)):
    print(i, yb.flatten().tolist())
seen = []
for row, target in ds:
    seen.append(target.item())
print(seen, [r.sum().item() for r, t in ds])
""",
    "random_split": """
from torch.utils.data import DataLoader, TensorDataset, random_split
gen = torch.manual_seed(2)
ds = TensorDataset(torch.arange(20.0).unsqueeze(1), torch.arange(20))
train, test = random_split(ds, [0.75, 0.25])
print(len(train), len(test), train[0][1].item(), len(train.dataset))
a, b, c = random_split(train, [5, 5, 5])
print([len(p) for p in (a, b, c)], a[0][1].item())
for xb, yb in DataLoader(test, batch_size=2, shuffle=True):
    print(yb.tolist())
""",
    "mini_batch_training": """
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset
gen = torch.manual_seed(3)
x = torch.randn(40, 2)
y = (x[:, :1] * x[:, 1:]).sin()
model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
opt = optim.AdamW(model.parameters(), lr=0.02)
sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4)
loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)
for epoch in range(4):
    total = 0.0
    for xb, yb in loader:
        opt.zero_grad()
        loss = F.mse_loss(model(xb), yb)
        loss.backward()
        norm = nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        total += loss.item() * len(xb)
    sched.step()
    print(epoch, total / len(loader.dataset), sched.get_last_lr())
"""
    + _REPORT,
}


@pytest.mark.parametrize("name", list(CORPUS))
def test_training_prints_what_pytorch_prints(name: str) -> None:
    code = CORPUS[name]
    assert _script_prints(code) == _python_prints(code)


@pytest.mark.parametrize("name", list(CORPUS))
def test_lesson_cells_accept_training(name: str) -> None:
    precheck(CORPUS[name])  # raises ScriptError if a cell with this code were refused


# -- limits -------------------------------------------------------------------------------------

_MLP = """
gen = torch.manual_seed(0)
x = torch.randn(64, 2)
y = (x[:, :1] * x[:, 1:]).sin()
model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(200):
    opt.zero_grad()
    loss = F.mse_loss(model(x), y)
    loss.backward()
    opt.step()
print(loss.item())
"""


def test_a_200_step_loop_records_200_passes_within_limits() -> None:
    session = Session(_MLP)
    snapshot = session.run()
    assert snapshot.problem is None, snapshot.problem
    assert len(snapshot.passes) == 200
    budget = session.interpreter.budget
    assert budget.passes == 200 and budget.iterations == 200
    # Each recorded pass keeps its steps' gradients: a few KiB for this model, so the
    # pass limit, not memory, bounds how long such a loop may run.
    per_pass = max(recorded_bytes(p) for p in snapshot.passes)
    assert per_pass * budget.limits.max_passes < budget.limits.max_total_bytes / 20
    assert budget.tensor_bytes < budget.limits.max_total_bytes / 100
    assert snapshot.outputs[-1].text == _python_prints(_MLP)[-1]


def test_an_optimizers_state_is_charged_once() -> None:
    code = _train("torch.optim.Adam(model.parameters(), lr=0.01)", steps=1).replace(_REPORT, "")
    one = _interpreter(code).budget.tensor_bytes
    more = _interpreter(code.replace("range(1)", "range(3)")).budget.tensor_bytes
    before = _interpreter(code.replace("range(1)", "range(0)")).budget.tensor_bytes
    parameters = (2 * 8 + 8 + 8 + 1) * 4
    assert one - before >= 2 * parameters  # exp_avg and exp_avg_sq of each parameter
    assert more - one < 2 * (one - before)  # later steps make no new state


def test_each_batch_is_counted_as_an_iteration_and_charged() -> None:
    code = (
        "from torch.utils.data import DataLoader, TensorDataset\n"
        "ds = TensorDataset(torch.zeros(100, 5), torch.zeros(100))\n"
        "loader = DataLoader(ds, batch_size=30)\n"
        "for epoch in range(2):\n    for xb, yb in loader:\n        pass\n"
    )
    before = _interpreter(code.replace("range(2)", "range(0)")).budget
    after = _interpreter(code).budget
    assert after.iterations == 2 + 2 * 4
    assert after.tensor_bytes - before.tensor_bytes == 2 * 100 * (5 + 1) * 4


def test_a_loader_loop_past_the_iteration_limit_is_refused_before_it_starts() -> None:
    code = (
        "from torch.utils.data import DataLoader, TensorDataset\n"
        "ds = TensorDataset(torch.zeros(1000, 2))\nn = 0\n"
        "for (xb,) in DataLoader(ds, batch_size=1):\n    n += 1\n"
    )
    with pytest.raises(ScriptError, match="this loop would run 1,000 iterations") as caught:
        _interpreter(code, Limits(max_iterations=500))
    assert caught.value.problem.line == 4


def test_a_pass_over_a_loader_past_the_memory_limit_is_refused_before_the_first_batch() -> None:
    code = (
        "from torch.utils.data import DataLoader, TensorDataset\n"
        "ds = TensorDataset(torch.zeros(1000, 1000))\nn = 0\n"
        "for (xb,) in DataLoader(ds, batch_size=100):\n    n += 1\n"
    )
    limits = Limits(max_total_bytes=6 * 10**6)
    interpreter = Interpreter(code, limits)
    with pytest.raises(ScriptError, match="one pass over this DataLoader"):
        interpreter.run(parse(code, limits))
    assert interpreter.env["n"] == 0


def test_a_lambda_scheduler_takes_only_a_function_of_the_script() -> None:
    code = "opt = torch.optim.SGD([torch.ones(1, requires_grad=True)], lr=0.1)\n"
    snapshot = run_script(code + "s = torch.optim.lr_scheduler.LambdaLR(opt, abs)")
    assert snapshot.problem is not None
    assert "abs> cannot be passed as an argument" in snapshot.problem.message
    snapshot = run_script(code + "s = torch.optim.lr_scheduler.LambdaLR(opt, 0.5)")
    assert snapshot.problem is not None
    assert "LambdaLR takes a function the script defined" in snapshot.problem.message
    schedule = (
        "w = torch.ones(1, requires_grad=True)\n"
        "opt = torch.optim.SGD([w], lr=0.1)\n"
        "s = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda=lambda epoch: 0.5 ** epoch)\n"
        "m = torch.optim.lr_scheduler.MultiplicativeLR(opt, lambda epoch: 0.9)\n"
        "for step in range(3):\n"
        "    opt.step()\n"
        "    s.step()\n"
        "    m.step()\n"
        "    print(s.get_last_lr(), m.get_last_lr())\n"
    )
    assert _script_prints(schedule) == _python_prints(schedule)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("torch.optim.SGD([torch.ones(1)], lr=0.1, fused=True)", "fused= argument"),
        ("torch.optim.Adam([torch.ones(1)], differentiable=True)", "differentiable= argument"),
        ("o = torch.optim.SGD([torch.ones(1)], lr=0.1)\no.step(abs)", "cannot be passed"),
        ("o = torch.optim.SGD([torch.ones(1)], lr=0.1)\no.step(F.relu)", "takes no closure"),
        (
            'o = torch.optim.SGD([torch.ones(1)], lr=0.1)\no.param_groups[0]["lr"] = F.relu\n'
            "o.step()",
            "holds a function",
        ),
        ("o = torch.optim.SGD([torch.ones(1)], lr=0.1)\no.defaults", "not available"),
        ("torch.utils.data.DataLoader", "torch.utils is not available"),
        (
            "from torch.utils.data import DataLoader, TensorDataset\n"
            "DataLoader(TensorDataset(torch.ones(2)), num_workers=2)",
            "num_workers=0 only",
        ),
        ("iter([1, 2])", "iter() takes a DataLoader"),
    ],
)
def test_what_training_refuses(code: str, message: str) -> None:
    assert message in _problem(code)


def test_the_new_modules_are_known_to_imports_namespaces_and_completion() -> None:
    assert set(tables.MODULE_NAMES) <= set(values.NAMESPACES)
    completions = tables.completions()
    assert "SGD" in completions["torch.optim"] and "lr_scheduler" in completions["optim"]
    assert "StepLR" in completions["lr_scheduler"]
    assert "clip_grad_norm_" in completions["nn.utils"]
    assert "DataLoader" in completions["torch.utils.data"]
    assert {"optim"} <= set(completions["torch"]) and "utils" in completions["nn"]
    assert {"iter", "next"} <= set(completions[""])
