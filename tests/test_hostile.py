"""Hostile scripts: every one must be refused with a clear, located message, and touch nothing.

Two tables. HOSTILE holds escapes, forbidden syntax and forbidden names: they run in this
process, in a fresh working directory, and must be refused quickly without writing a file
or changing torch, builtins or the next run. BOMBS holds scripts that would take a lot of
memory or time if they were not refused before the work is done: they run in child
processes capped at 3 GiB of address space (RLIMIT_AS), several per child, and must be
refused in well under a second (asserted: under 5 s, for loaded machines) without a large
allocation. A bomb that hangs is killed after BOMB_TIMEOUT seconds and reported as a timeout.
"""

from __future__ import annotations

import builtins
import json
import os
import queue
import re
import resource
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from explorer.data.snapshot import Problem
from explorer.runs.session import Session, run_script

ROOT = Path(__file__).resolve().parents[1]
TARGET = "@TARGET@"  # replaced by an absolute path under tmp_path that must never appear
# Not a speed goal (bench/ has those): a bound that tells a refused bomb from one left to run,
# wide enough that a machine loaded by other work does not fail good code.
SECONDS = 15.0
BOMB_TIMEOUT = SECONDS + 0.5  # a bomb child silent this long after its last answer is killed
STARTUP_TIMEOUT = 120.0  # a bomb child importing torch on a loaded machine
MEMORY_CAP = 3 * 2**30  # RLIMIT_AS of a bomb child
PEAK_GROWTH = 512 * 2**20  # resident memory a refused bomb may add to the child's peak


# -- what a refusal must look like -----------------------------------------------------------

# Signs that a message is Python's or torch's internals, not a sentence for a student.
_UNCLEAR = re.compile(
    r"Traceback|File \"|\b[A-Za-z]*(Error|Exception)\b|object at 0x|"
    r"\bBuiltin\b|\bNamespace\b|ssize_t|enforce fail|alloc_cpu|^\(\d+, '"
)


def assert_clear_refusal(text: str, problem: Problem | None) -> None:
    """A refusal: a sentence of plain words, at a line and column inside the script."""
    assert problem is not None, "the script was not refused"
    message = problem.message
    assert isinstance(message, str) and message.strip(), f"empty message: {problem!r}"
    assert len(message.split()) >= 3, f"not a sentence: {message!r}"
    assert "  " not in message, f"a name is missing from the message: {message!r}"
    unclear = _UNCLEAR.search(message)
    assert unclear is None, f"{unclear and unclear.group(0)!r} in the message: {message!r}"
    lines = text.splitlines() or [""]
    assert 1 <= problem.line <= len(lines), f"line {problem.line} is outside the script"
    width = len(lines[problem.line - 1])
    assert 1 <= problem.column <= width + 1, (
        f"column {problem.column} is outside line {problem.line} ({width} characters)"
    )


# -- hostile scripts that are refused at once: run in this process -----------------------------

_GRAD_FN = "x = torch.ones(2, requires_grad=True)\ny = (x * 2).sum()\n"
_OPT = "w = torch.ones(2, requires_grad=True)\nopt = torch.optim.SGD([w], lr=0.1)\n"
_DATA = (
    "from torch.utils.data import DataLoader, TensorDataset\n"
    "ds = TensorDataset(torch.ones(4, 2), torch.ones(4))\n"
)

_CTX = (
    "class F1(torch.autograd.Function):\n"
    "    @staticmethod\n"
    "    def forward(ctx, x):\n"
    "        {}\n"
    "        return x * 2\n"
    "    @staticmethod\n"
    "    def backward(ctx, g):\n"
    "        return g * 2\n"
    "x = torch.ones(2, requires_grad=True)\n"
    "y = F1.apply(x)"
)

HOSTILE: dict[str, str] = {
    # escapes through dunders
    "dunder_class_bases": "x = torch.ones(2)\nx.__class__.__bases__",
    "dunder_mro_subclasses": "().__class__.__mro__[1].__subclasses__()",
    "dunder_torch_dict": "torch.__dict__",
    "dunder_grad_fn_globals": _GRAD_FN + "y.grad_fn.__init__.__globals__",
    "dunder_print_self": "print.__self__",
    "dunder_nn_builtins": "torch.nn.__builtins__",
    "dunder_import_name": f'__import__("os").system("touch {TARGET}")',
    "dunder_builtins_name": '__builtins__["open"]("' + TARGET + '", "w")',
    "dunder_module_dict": "m = nn.Linear(2, 2)\nm.__dict__",
    "dunder_dtype_class": "torch.float32.__class__",
    "dunder_math_loader": "math.__loader__",
    "dunder_from_import": "from math import __loader__",
    "private_import_alias": "import torch as _t",
    "private_from_import_alias": "from torch import nn as _nn",
    # format-string tricks
    "format_method_dunder": 'x = torch.ones(2)\n"{0.__class__}".format(x)',
    "fstring_dunder": 'x = torch.ones(2)\nf"{x.__class__}"',
    "percent_format_tensor": 'x = torch.ones(2)\n"%s" % x',
    "fstring_huge_width": 'f"{1:>999999999}"',
    "fstring_nested_huge_width": 'w = 999999999\nf"{1:>{w}}"',
    "fstring_ascii_conversion": 'f"{1!a}"',
    # torch members that reach files, code or the C++ side
    "torch_save": f'torch.save(torch.ones(2), "{TARGET}")',
    "torch_load": f'torch.load("{TARGET}")',
    "torch_hub": 'torch.hub.load("pytorch/vision", "resnet18")',
    "torch_jit": "torch.jit.script",
    "torch_from_file": f'torch.from_file("{TARGET}", shared=True, size=10)',
    "torch_compile": "torch.compile",
    "torch_ops": "torch.ops.aten",
    "torch_C": "torch._C",
    "torch_utils": "torch.utils.data",
    "torch_library": "torch.library",
    "torch_classes": "torch.classes",
    "torch_set_printoptions": "torch.set_printoptions(threshold=10**9)",
    "torch_Tensor_class": "torch.Tensor.add",
    "tensor_numpy_tofile": f'x = torch.ones(2)\nx.numpy().tofile("{TARGET}")',
    "tensor_storage": "x = torch.ones(2)\nx.storage()",
    "tensor_untyped_storage": "x = torch.ones(2)\nx.untyped_storage()",
    "tensor_reduce_ex": "torch.Tensor.__reduce_ex__",
    "tensor_register_hook": "x = torch.ones(2, requires_grad=True)\nx.register_hook(print)",
    "tensor_to_meta": 'x = torch.ones(2)\nx.to("meta")',
    "tensor_device_keyword": 'torch.ones(2, device="meta")',
    "tensor_out_keyword": "x = torch.ones(2)\ntorch.exp(x, out=x)",
    "module_device_by_position": 'm = nn.Linear(2, 2, True, "meta")',
    "module_tensor_device_by_position": "x = torch.ones(2)\nm = nn.Linear(2, 2, True, x.device)",
    "ones_device_by_position": 'torch.ones(2, "meta")',
    "node_register_hook": _GRAD_FN + "y.grad_fn.register_hook(print)",
    "module_forward_hook": "m = nn.Linear(2, 2)\nm.register_forward_hook(print)",
    "module_apply": "m = nn.Linear(2, 2)\nm.apply(print)",
    "module_state_dict": "m = nn.Linear(2, 2)\nm.state_dict()",
    "math_factorial": "math.factorial(10**6)",
    # Python builtins that reach the interpreter, files or the terminal
    "builtin_globals": "globals()",
    "builtin_locals": "locals()",
    "builtin_vars": "vars()",
    "builtin_eval": 'eval("1")',
    "builtin_exec": 'exec("import os")',
    "builtin_compile": 'compile("1", "f", "exec")',
    "builtin_open": f'open("{TARGET}", "w")',
    "builtin_getattr": 'getattr(torch, "load")',
    "builtin_setattr": 'setattr(torch, "load", 1)',
    "builtin_type": "type(1)",
    "builtin_object": "object",
    "builtin_breakpoint": "breakpoint()",
    "builtin_input": "input()",
    "builtin_help": "help()",
    # imports
    "import_os": "import os",
    "import_subprocess": "import subprocess",
    "from_os_import_system": "from os import system",
    "import_torch_hub": "import torch.hub",
    "from_torch_import_load": "from torch import load",
    "import_numpy": "import numpy",
    "import_star": "from torch import *",
    "relative_import_dot": "from . import x",
    "relative_import_module": "from .torch import nn",
    "transcript_import_os": ">>> import os",
    # syntax the language does not have
    "while_true": "while True:\n    pass",
    "walrus": "(x := 1)",
    "async_def": "async def f():\n    pass",
    "async_for": "async for i in x:\n    pass",
    "yield": "yield 1",
    "decorator": "@print\ndef f():\n    pass",
    "with_open": f'with open("{TARGET}", "w"):\n    pass',
    "with_as": "with torch.no_grad() as g:\n    pass",
    "deep_indentation": "".join(" " * i + "if 1:\n" for i in range(120)) + " " * 120 + "pass",
    # names with underscores: one is a variable, two or an attribute is Python's own
    "dunder_variable": "__x = 1",
    "dunder_loop_variable": "for __i in range(3):\n    pass",
    "dunder_comprehension_variable": "[__i for __i in range(3)]",
    "dunder_except_name": "try:\n    1 / 0\nexcept Exception as __e:\n    pass",
    "single_underscore_attribute": "x = torch.ones(2)\nx._version",
    # while loops, comprehensions and try within the limits
    "while_true_with_body": "n = 0\nwhile True:\n    n += 1",
    "while_true_inside_try": "try:\n    while True:\n        pass\nexcept Exception:\n    pass",
    "try_around_iteration_limit_in_loop": (
        "for i in range(10):\n    try:\n        while True:\n            pass\n"
        "    except:\n        pass"
    ),
    "try_catches_no_memory_limit": "try:\n    x = torch.zeros(10**10)\nexcept Exception:\n    pass",
    "bare_except_no_memory_limit": (
        "while True:\n    try:\n        x = torch.ones(10**6, 10**6)\n    except:\n        pass"
    ),
    "finally_after_limit": "try:\n    torch.zeros(10**10)\nfinally:\n    while True:\n        pass",
    "comprehension_over_iterations": "l = [i for i in range(10**6)]",
    "nested_comprehension_over_iterations": "l = [i * j for i in range(1000) for j in range(1000)]",
    "raise_outside_except": "raise",
    "raise_from": 'raise ValueError("a") from None',
    "raise_a_number": "raise 1",
    "except_a_tensor": "try:\n    1 / 0\nexcept torch.ones(1):\n    pass",
    # what a caught error, a dict or a set can reach
    "except_traceback": "try:\n    1 / 0\nexcept Exception as e:\n    e.__traceback__",
    "except_with_traceback": "try:\n    1 / 0\nexcept Exception as e:\n    e.with_traceback(None)",
    "except_args_class": "try:\n    1 / 0\nexcept Exception as e:\n    a = e.args\n    a.__class__",
    "except_kind": "try:\n    1 / 0\nexcept Exception as e:\n    e.kind",
    "error_class_dunder": "ValueError.__subclasses__()",
    "dict_dunder": "d = {}\nd.__class__",
    "dict_fromkeys": "d = {}\nd.fromkeys(range(10**9))",
    "dict_key_function": "d = {print: 1}",
    "dict_key_list": "d = {}\nd[[1]] = 2",
    "set_dunder": "s = {1}\ns.__init__",
    "set_of_namespace": "s = {torch}",
    "dict_of_builtin_as_argument": 'd = {"f": print}\nx = torch.tensor(d["f"])',
    "isinstance_of_function": "isinstance(1, print)",
    "torch_tensor_class_called": "torch.Tensor(10**10)",
    "sorted_with_key": "sorted([1, 2], key=print)",
    # functions passed as data
    "tensor_of_function": "torch.tensor(print)",
    "tensor_of_function_list": "torch.tensor([print])",
    "parameter_of_function": "nn.Parameter(print)",
    "tensor_of_namespace": "torch.tensor(torch)",
    "tensor_of_method": "x = torch.ones(2)\ntorch.tensor(x.backward)",
    # nn.Module subclassing
    "module_type_subclass": 'M = type("M", (nn.Module,), {})',
    # script functions and classes: no path to Python's own names
    "function_globals": "def f():\n    pass\nf.__globals__",
    "function_code": "def f():\n    pass\nf.__code__",
    "function_closure": "def f():\n    x = 1\n    return lambda: x\nf().__closure__",
    "lambda_globals": "(lambda: 1).__globals__",
    "function_dict": "def f():\n    pass\nf.__dict__",
    "function_name_attribute": "def f():\n    pass\nf.func_globals",
    "function_defaults_attribute": "def f(a=1):\n    pass\nf.defaults",
    "method_self_attribute": "class A:\n    def m(self):\n        pass\nA().m.__self__",
    "method_func_attribute": "class A:\n    def m(self):\n        pass\nA().m.__func__",
    "object_dict": "class A:\n    pass\nA().__dict__",
    "object_class": "class A:\n    pass\nA().__class__",
    "object_fields_attribute": "class A:\n    pass\nA().fields",
    "object_script_class_attribute": "class A:\n    pass\nA().script_class",
    "class_mro": "class A:\n    pass\nA.__mro__",
    "class_subclasses": "class A:\n    pass\nA.__subclasses__()",
    "class_namespace_attribute": "class A:\n    pass\nA.namespace",
    "class_module_type_attribute": "class A(nn.Module):\n    pass\nA.module_type",
    "class_base_attribute": "class A:\n    pass\nclass B(A):\n    pass\nB.base",
    "module_self_dict": (
        "class M(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.__dict__\nM()"
    ),
    "module_self_class": (
        "class M(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.__class__.__bases__\nM()"
    ),
    "module_private_store": (
        "class M(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        print(self._modules)\nM()"
    ),
    "module_forward_hooks_store": (
        "class M(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self._forward_hooks\nM()"
    ),
    "module_script_fields": (
        "class M(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self._script_fields\nM()"
    ),
    "module_script_class_attribute": "class M(nn.Module):\n    pass\nM()._script_class",
    "module_replace_parameters_method": (
        "class M(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.parameters = print\nM()"
    ),
    "module_replace_training_flag": (
        "class M(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.training = 5\nM()"
    ),
    "module_set_script_fields": (
        "class M(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self._script_fields = 1\nM()"
    ),
    "layer_plain_attribute": "m = nn.Linear(2, 2)\nm.forward = print",
    "layer_new_parameter_name": "m = nn.Linear(2, 2)\nm.extra = nn.Parameter(torch.ones(2))",
    "dunder_getattr_method": "class A:\n    def __getattr__(self, name):\n        return 1",
    "dunder_getattribute_method": (
        "class A:\n    def __getattribute__(self, name):\n        return 1"
    ),
    "dunder_init_subclass": "class A:\n    def __init_subclass__(cls):\n        pass",
    "dunder_del_method": "class A:\n    def __del__(self):\n        pass",
    "dunder_function_outside_class": "def __init__(self):\n    pass",
    "dunder_parameter": "def f(__x):\n    return __x",
    "metaclass_keyword": "class A(metaclass=print):\n    pass",
    "class_decorator": "@print\nclass A:\n    pass",
    "base_class_builtin": "class A(Exception):\n    pass",
    "base_class_tensor": "class A(torch.Tensor):\n    pass",
    "base_class_layer": "class A(nn.Linear):\n    pass",
    "base_class_two": "class A:\n    pass\nclass B:\n    pass\nclass C(A, B):\n    pass",
    "base_class_namespace": "class A(torch):\n    pass",
    "decorator_function": "def d(f):\n    return f\n@d\ndef g():\n    pass",
    "decorator_builtin": "@sorted\ndef g():\n    pass",
    "decorator_two_modes": "@torch.no_grad()\n@torch.no_grad()\ndef g():\n    pass",
    "decorator_set_grad_enabled": "@torch.set_grad_enabled(False)\ndef g():\n    pass",
    "super_outside_method": "super()",
    "super_of_int": "super(int, 1)",
    "super_dict": ("class A:\n    def __init__(self):\n        super().__dict__\nA()"),
    "super_thisclass": "class A:\n    def m(self):\n        return super().__thisclass__\nA().m()",
    "super_self_class": (
        "class A:\n    def m(self):\n        return super().__self_class__\nA().m()"
    ),
    "super_init_arguments": (
        "class M(nn.Module):\n    def __init__(self):\n        super().__init__(print)\nM()"
    ),
    "super_unknown_method": (
        "class M(nn.Module):\n    def m(self):\n        return super().register_buffer\nM().m()"
    ),
    "module_without_super_init": (
        "class M(nn.Module):\n    def __init__(self):\n        self.fc = nn.Linear(2, 2)\nM()"
    ),
    "yield_in_function": "def g():\n    yield 1\ng()",
    "yield_from_in_function": "def g():\n    yield from [1]\ng()",
    "async_lambda_await": "async def g():\n    await g()",
    "return_at_top_level": "return 1",
    "nonlocal_at_top_level": "nonlocal x",
    "nonlocal_unbound": "def f():\n    def g():\n        nonlocal zz\n        zz = 1\n    g()\nf()",
    "function_to_torch": "def f(x):\n    return x\ntorch.ones(2).apply_(f)",
    "lambda_to_torch_where": "torch.where(torch.ones(2) > 0, lambda: 1, 2)",
    "function_as_tensor_data": "def f():\n    pass\ntorch.tensor([f])",
    "function_as_activation": (
        "def act(x):\n    return x\n"
        "nn.TransformerEncoderLayer(4, 1, dim_feedforward=8, activation=act)"
    ),
    "function_in_module_call": ("m = nn.Linear(2, 2)\ndef f():\n    pass\nm(f)"),
    "method_to_torch": (
        "class A:\n    def m(self, x):\n        return x\ntorch.ones(2).apply_(A().m)"
    ),
    "class_to_torch": "class A:\n    pass\ntorch.ones(2, dtype=A)",
    "script_object_dict_key": "class A:\n    pass\nd = {A(): 1}",
    "keyword_dict_private_key": "def f(**k):\n    return k\nf(**{'_x': 1})",
    "keyword_dict_dunder_key": "torch.ones(2, **{'__class__': 1})",
    "keyword_dict_device": "torch.ones(2, **{'device': 'cpu'})",
    "keyword_dict_not_text": "def f(**k):\n    return k\nf(**{1: 2})",
    "fstring_spec_injection": 'x = 3\nspec = "{0.__class__}"\nf"{x:{spec}}"',
    "fstring_format_function": 'def f():\n    pass\nf"{f.__globals__}"',
    "fstring_nested_spec_dunder": 'x = 3\nf"{x:{x.__class__}}"',
    "format_method_function": 'def f():\n    pass\n"{0.__globals__}".format(f)',
    "format_method_object": 'class A:\n    pass\n"{0.__dict__}".format(A())',
    "sort_key_returns_node": (
        "x = torch.ones(2, requires_grad=True)\ny = x * 2\nsorted([y, y], key=lambda t: t.grad_fn)"
    ),
    "lambda_default_builtin_escape": "f = lambda p=print: p\nf()(f.__globals__)",
    # hooks: only the script's own functions, and nothing of the handle but remove()
    "hook_builtin": "x = torch.ones(2, requires_grad=True)\nx.register_hook(print)",
    "hook_torch_function": "x = torch.ones(2, requires_grad=True)\nx.register_hook(torch.exp)",
    "hook_module_builtin": "m = nn.Linear(2, 2)\nm.register_forward_hook(print)",
    "hook_with_kwargs": (
        "m = nn.Linear(2, 2)\nm.register_forward_hook(lambda *a: None, with_kwargs=True)"
    ),
    "hook_always_call": (
        "m = nn.Linear(2, 2)\nm.register_forward_hook(lambda *a: None, always_call=1)"
    ),
    "hook_on_grad_fn": (
        "x = torch.ones(2, requires_grad=True)\ny = x * 2\ny.grad_fn.register_hook(lambda *a: None)"
    ),
    "hook_on_grad_fn_prehook": (
        "x = torch.ones(2, requires_grad=True)\ny = x * 2\n"
        "y.grad_fn.register_prehook(lambda *a: None)"
    ),
    "hook_handle_dict": (
        "x = torch.ones(2, requires_grad=True)\nh = x.register_hook(lambda g: g)\nh.__dict__"
    ),
    "hook_handle_hooks_dict_ref": (
        "x = torch.ones(2, requires_grad=True)\nh = x.register_hook(lambda g: g)\n"
        "h.hooks_dict_ref()"
    ),
    "hook_handle_id": (
        "x = torch.ones(2, requires_grad=True)\nh = x.register_hook(lambda g: g)\nh.id"
    ),
    "hook_state_dict_hook": "m = nn.Linear(2, 2)\nm.register_state_dict_pre_hook(lambda *a: None)",
    "hook_load_state_dict": "m = nn.Linear(2, 2)\nm.register_load_state_dict_post_hook(print)",
    "hook_module_apply": "m = nn.Linear(2, 2)\nm.apply(lambda mod: None)",
    # random generators: seeds only
    "generator_on_cuda": "g = torch.Generator('cuda')",
    "generator_device_keyword": "g = torch.Generator(device='cpu')",
    "generator_set_state": "g = torch.Generator()\ng.set_state(torch.zeros(3))",
    "generator_graph_state": "g = torch.Generator()\ng.graphsafe_set_state(g)",
    "generator_dict": "g = torch.Generator()\ng.__class__",
    # Jacobians and Hessians: of the script's own functions, by reverse mode only
    "jacobian_of_builtin": (
        "from torch.autograd.functional import jacobian\njacobian(print, torch.ones(2))"
    ),
    "jacobian_of_torch_function": "torch.autograd.functional.jacobian(torch.exp, torch.ones(2))",
    "jacobian_vectorized": (
        "from torch.autograd.functional import jacobian\n"
        "jacobian(lambda x: x, torch.ones(2), vectorize=True)"
    ),
    "jacobian_forward_strategy": (
        "from torch.autograd.functional import jacobian\n"
        "jacobian(lambda x: x, torch.ones(2), strategy='forward-mode')"
    ),
    "jacobian_inputs_not_tensors": "torch.autograd.functional.jacobian(lambda x: x, [print])",
    "autograd_functional_dict": "torch.autograd.functional.__dict__",
    "autograd_functional_private": "torch.autograd.functional._vmap",
    # custom autograd functions: the context offers only what forward and backward use
    "ctx_to_save": _CTX.format("ctx.to_save"),
    "ctx_forward_cls": _CTX.format("ctx._forward_cls"),
    "ctx_dict": _CTX.format("ctx.__dict__"),
    "ctx_apply": _CTX.format("ctx.apply(x)"),
    "ctx_register_hook": _CTX.format("ctx.register_hook(print)"),
    "ctx_saved_variables": _CTX.format("ctx.saved_variables"),
    "ctx_metadata": _CTX.format("ctx.metadata"),
    "ctx_set_to_save": _CTX.format("ctx.to_save = (x,)"),
    "ctx_set_next_functions": _CTX.format("ctx.next_functions = ()"),
    "ctx_save_function": _CTX.format("ctx.save_for_backward(print)"),
    "apply_builtin": _CTX.format("pass") + "\nF1.apply(print)",
    "apply_device": _CTX.format("pass") + "\nF1.apply(torch.ones(1), 'cuda')",
    "function_class_dict": _CTX.format("pass") + "\nF1.__dict__",
    "function_class_vjp": _CTX.format("pass") + "\nF1.vjp",
    "staticmethod_called": "def f():\n    pass\ng = staticmethod(f)",
    "staticmethod_outside_class": "@staticmethod\ndef f():\n    pass",
    # changing torch, nn or builtins
    "assign_torch_load": "torch.load = 1",
    "assign_linear_forward": "torch.nn.Linear.forward = print",
    "assign_module_forward": "m = nn.Linear(2, 2)\nm.forward = print",
    "assign_torch_nn": "torch.nn = 1",
    "assign_tensor_method": "x = torch.ones(2)\nx.backward = print",
    "subscript_torch": 'torch["load"]',
    "del_torch": "del torch",
    "del_print": "del print",
    # strings
    "string_join_of_numbers": '", ".join([1, 2])',
    "string_format_attribute": 'x = torch.ones(2)\n"{0.grad_fn}".format(x)',
    "string_format_index": '"{0[0]}".format([1])',
    "string_format_huge_width": '"{:>999999999}".format(1)',
    "percent_format_mapping": '"%(a)s" % 1',
    "percent_format_star_width": '"%*d" % (5, 1)',
    "percent_format_list": '"%s" % [1]',
    "int_of_long_text": 'int("1" * 5000)',
    "bytes_literal": 'b"abc"',
    "long_string_literal": 's = "' + "a" * 5_000 + '"',
    # print with arguments that are not text
    "print_sep_number": "print(1, 2, sep=1)",
    "print_sep_function": "print(1, 2, sep=print)",
    "print_end_tensor": "print(1, end=torch.ones(1))",
    # training: optimizers, schedulers and loaders reach no callable, process or internals
    "optimizer_step_closure": _OPT + "opt.step(F.relu)",
    "optimizer_step_builtin_closure": _OPT + "opt.step(print)",
    "optimizer_dict": _OPT + "opt.__dict__",
    "optimizer_defaults": _OPT + "opt.defaults",
    "optimizer_state_class": _OPT + "opt.state.__class__",
    "optimizer_step_hook": _OPT + "opt.register_step_pre_hook(print)",
    "optimizer_load_state_dict": _OPT + "opt.load_state_dict({})",
    "optimizer_group_function": _OPT + 'opt.param_groups[0]["lr"] = print\nopt.step()',
    "optimizer_group_activation": _OPT + 'opt.param_groups[0]["lr"] = F.relu\nopt.step()',
    "optimizer_groups_append": _OPT + "opt.param_groups.append(F.relu)\nopt.zero_grad()",
    "optimizer_params_append": _OPT + 'opt.param_groups[0]["params"].append(F.relu)\nopt.step()',
    "optimizer_group_device": _OPT + 'opt.param_groups[0]["lr"] = "meta"\nopt.step()',
    "optimizer_group_module_key": _OPT + "opt.param_groups[0][nn.Linear(1, 1)] = 1\nopt.step()",
    "optimizer_group_fused": _OPT + 'opt.param_groups[0]["fused"] = True\nopt.step()',
    "optimizer_fused": "w = torch.ones(2, requires_grad=True)\ntorch.optim.Adam([w], fused=True)",
    "optimizer_capturable": "torch.optim.Adam([torch.ones(1)], capturable=True)",
    "optimizer_base_class": "torch.optim.Optimizer",
    "optimizer_subclass": "class O(torch.optim.Optimizer):\n    pass",
    "optim_builtins": "import torch.optim as optim\noptim.__builtins__",
    "lambda_lr_builtin": _OPT + "torch.optim.lr_scheduler.LambdaLR(opt, print)",
    "lambda_lr_torch_function": _OPT + "torch.optim.lr_scheduler.LambdaLR(opt, torch.exp)",
    "lambda_lr_list_with_builtin": _OPT + "torch.optim.lr_scheduler.LambdaLR(opt, [print])",
    "scheduler_optimizer": _OPT + "s = torch.optim.lr_scheduler.StepLR(opt, 2)\ns.optimizer",
    "scheduler_step_function": _OPT + "s = torch.optim.lr_scheduler.StepLR(opt, 2)\ns.step(F.relu)",
    "loader_dataset_dict": _DATA + "loader = DataLoader(ds)\nloader.dataset.__dict__",
    "loader_num_workers": _DATA + "DataLoader(ds, num_workers=2)",
    "loader_collate_fn_print": _DATA + "DataLoader(ds, collate_fn=print)",
    "loader_collate_fn_activation": _DATA + "DataLoader(ds, collate_fn=F.relu)",
    "loader_worker_init_fn": _DATA + "DataLoader(ds, worker_init_fn=torch.manual_seed)",
    "loader_multiprocessing_context": _DATA + 'DataLoader(ds, multiprocessing_context="fork")',
    "loader_sampler": _DATA + "DataLoader(ds, sampler=[0, 1, 2, 3])",
    "loader_batch_sampler": _DATA + "DataLoader(ds, batch_sampler=[[0, 1]])",
    "loader_pin_memory": _DATA + "DataLoader(ds, pin_memory=True)",
    "loader_persistent_workers": _DATA + "DataLoader(ds, persistent_workers=True)",
    "loader_prefetch_factor": _DATA + "DataLoader(ds, prefetch_factor=4)",
    "loader_generator": _DATA + "DataLoader(ds, generator=torch.manual_seed(0))",
    "loader_of_a_list": _DATA + "DataLoader([print, 1])",
    "loader_iterator_frame": _DATA + "it = iter(DataLoader(ds))\nit.gi_frame",
    "iter_of_a_list": "it = iter([1, 2])",
    "dataset_by_tensor": _DATA + "ds[torch.tensor([0, 1])]",
    # numbers that cannot be handled, refused without the work
    "float_power_overflow": "10.0 ** 10 ** 8",
    "range_beyond_c_size": "for i in range(10**30):\n    pass",
    # the wider tensor API: what reaches memory, storage, devices or files
    "tensor_numpy": "x = torch.ones(2)\nx.numpy()",
    "tensor_data_ptr": "x = torch.ones(2)\nx.data_ptr()",
    "tensor_to_cuda": 'x = torch.ones(2)\ny = x.to("cuda")',
    "tensor_to_device_object": 'x = torch.ones(2)\ny = x.to(torch.float64, "cuda")',
    "tensor_cuda": "x = torch.ones(2)\ny = x.cuda()",
    "tensor_set_storage": "x = torch.ones(2)\ny = torch.ones(3)\nx.set_(y)",
    "tensor_apply_callable": "x = torch.ones(2)\nx.apply_(abs)",
    "linalg_dunder_dict": "torch.linalg.__dict__",
    "init_dunder_builtins": "nn.init.__builtins__",
    "init_imported_dunder": "from torch.nn import init\ninit.__builtins__",
}


def _protected() -> dict[str, Any]:
    """What a script must never change in the process that runs it."""
    return {
        "torch.load": torch.load,
        "torch.save": torch.save,
        "torch.ones": torch.ones,
        "nn.Linear.forward": nn.Linear.forward,
        "nn.Module.__call__": nn.Module.__call__,
        "torch.Tensor.backward": torch.Tensor.backward,
        "print": builtins.print,
        "open": builtins.open,
        "__import__": builtins.__import__,
        "grad_enabled": torch.is_grad_enabled(),
    }


@pytest.mark.parametrize("script", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_script_is_refused(
    script: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    target = tmp_path / "pwned"  # its folder exists, so a write would succeed
    monkeypatch.chdir(work)
    text = script.replace(TARGET, str(target))
    before = _protected()

    start = time.perf_counter()
    snapshot = run_script(text)
    elapsed = time.perf_counter() - start

    assert_clear_refusal(text, snapshot.problem)
    assert elapsed < SECONDS, f"took {elapsed:.1f} s"
    assert sorted(p.name for p in work.iterdir()) == [], "the script wrote a file"
    assert not target.exists(), "the script wrote to an absolute path"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]
    assert _protected() == before, "the script changed torch, nn or builtins"
    after = run_script("x = torch.ones(2, requires_grad=True)\ny = (x * 3).sum()\ny.backward()")
    assert after.problem is None, f"the next run is broken: {after.problem}"
    assert after.grads["x"] is not None


def test_hostile_corpus_is_large_and_covers_the_brief() -> None:
    assert len(HOSTILE) + len(BOMBS) >= 60
    assert not set(HOSTILE) & set(BOMBS)
    for name in ("percent_format_tensor", "del_torch", "with_as", "tensor_of_function"):
        assert name in HOSTILE


def test_a_dropped_run_frees_its_tensors() -> None:
    """A finished run's tensors go as soon as its Session does, without the cycle collector.

    Runs pause the cycle collector, and the worker drops the last Session before the next
    run so that both never hold memory at once: a reference cycle through the Session would
    keep a run's tensors (up to the 4 GiB budget) alive into the next run.
    """
    session = Session("x = torch.ones(1000)\ny = x * 2")
    assert session.run().problem is None
    tensor = weakref.ref(session.interpreter.env["x"])
    interpreter = weakref.ref(session.interpreter)
    del session
    assert interpreter() is None, "the Interpreter outlives its Session (a reference cycle)"
    assert tensor() is None, "the run's tensor outlives its Session"


def test_grad_mode_and_seed_do_not_leak_out_of_a_run() -> None:
    """Allowed calls that change torch's global state are undone when the run ends."""
    snapshot = run_script("torch.set_grad_enabled(False)\ntorch.manual_seed(123)")
    assert snapshot.problem is None
    assert torch.is_grad_enabled()
    first = run_script("x = torch.randn(3)\nprint(x)")
    second = run_script("torch.manual_seed(7)\ny = torch.randn(3)\nx = torch.randn(3)")
    third = run_script("x = torch.randn(3)\nprint(x)")
    assert second.problem is None
    assert [o.text for o in first.outputs] == [o.text for o in third.outputs]


# -- bombs: run in child processes under an address-space cap -----------------------------------

_L6 = "l = [0] * 10**6\n"  # a million-item list: at the limit of one list
_M6 = _L6 + "m = [l] * 10**6\n"  # a million references to it: each list is within the limit
_DEEP_GRAPH = (
    "x = torch.ones(1, requires_grad=True)\ny = x\nfor i in range(99_990):\n    y = y * 1\n"
)
_VECTORS = "a = torch.ones(10**5)\nb = torch.ones(10**5)\n"
_DEEP_LIST = "a = [0]\nfor i in range(99_999):\n    a = [a]\n"

BOMBS: dict[str, str] = {
    "backward_pass_flood": (
        "x = torch.ones(1000, requires_grad=True)\ny = (x * 2).sum()\n"
        "for i in range(100000):\n    y.backward(retain_graph=True)"
    ),
    "jacobian_huge_output": (
        "from torch.autograd.functional import jacobian\n"
        "j = jacobian(lambda x: x.repeat(10**4), torch.ones(900))"
    ),
    "hessian_huge_input": (
        "h = torch.autograd.functional.hessian(lambda x: x.sum(), torch.ones(10**6))"
    ),
    "generator_randn_huge": "g = torch.Generator()\nx = torch.randn(10**5, 10**5, generator=g)",
    "multinomial_huge": "x = torch.multinomial(torch.ones(3), 10**9, replacement=True)",
    "normal_size_huge": "x = torch.normal(0.0, 1.0, size=(10**6, 10**6))",
    # recursion and function bombs
    "recursion_unbounded": "def f(n):\n    return f(n + 1)\nf(0)",
    "recursion_mutual": "def a(n):\n    return b(n)\ndef b(n):\n    return a(n)\na(0)",
    "recursion_lambda": "f = lambda n: f(n + 1)\nf(0)",
    "recursion_method": ("class A:\n    def m(self):\n        return self.m()\nA().m()"),
    "recursion_forward": (
        "class M(nn.Module):\n    def forward(self, x):\n        return self(x)\nM()(torch.ones(1))"
    ),
    "recursion_init": "class A:\n    def __init__(self):\n        A()\nA()",
    "recursion_fan_out": "def f(n):\n    f(n + 1)\n    f(n + 1)\nf(0)",
    "recursion_in_sort_key": ("def k(v):\n    return sorted([1, 2], key=k)\nsorted([1, 2], key=k)"),
    "function_list_doubling": ("def grow(xs):\n    return grow(xs + xs)\ngrow([0])"),
    "function_string_doubling": "def grow(s):\n    return grow(s + s)\ngrow('ab')",
    "function_while_true": "def spin():\n    while True:\n        pass\nspin()",
    "closure_counter_forever": (
        "def make():\n    n = [0]\n    def step():\n        n[0] += 1\n"
        "        return n[0]\n    return step\ns = make()\nwhile True:\n    s()"
    ),
    "generator_bomb_nested": "def g():\n    return [i for i in range(10**9)]\ng()",
    "generator_bomb_sum": "def g():\n    return sum(i for i in range(10**9))\ng()",
    "module_in_module_forever": (
        "class M(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.fc = nn.Linear(10**5, 10**5)\nM()"
    ),
    "script_module_big_output": (
        "class M(nn.Module):\n    def forward(self, x):\n        return x.expand(10**6, 10**6)\n"
        "M()(torch.ones(1, 1))"
    ),
    # memory bombs
    "ones_100k_square": "torch.ones(100000, 100000)",
    "zeros_1e10": "torch.zeros(10**10)",
    "randn_50k_square": "torch.randn(50000, 50000)",
    "arange_1e12": "torch.arange(0, 1e12)",
    "eye_1e6": "torch.eye(10**6)",
    "expand_1x1": "x = torch.ones(1, 1)\ny = x.expand(10**6, 10**6)",
    "outer_by_broadcast": _VECTORS + "c = a[:, None] * b[None, :]",
    "cat_doubling_loop": "x = torch.ones(1000)\nfor i in range(40):\n    x = torch.cat([x, x])",
    "list_repeat_1e9": "a = [0] * 10**9",
    "nested_list_tensor": "t = torch.tensor([[0.0] * 10**4] * 10**4)",
    "linear_1e6": "m = nn.Linear(10**6, 10**6)",
    "embedding_1e9": "m = nn.Embedding(10**9, 10)",
    "one_hot_1e9_classes": "y = F.one_hot(torch.tensor([1]), num_classes=10**9)",
    "tolist_of_big_tensor": "x = torch.ones(10**7)\ny = x.tolist()",
    "list_of_range_1e9": "a = list(range(10**9))",
    "sum_of_range_1e12": "sum(range(10**12))",
    "list_comprehension_1e9": "a = [i for i in range(10**9)]",
    "set_comprehension_1e9": "a = {i for i in range(10**9)}",
    "dict_comprehension_1e9": "a = {i: i for i in range(10**9)}",
    "generator_sum_1e12": "s = sum(i * i for i in range(10**12))",
    "comprehension_of_big_lists": "a = [[0] * 10**6 for i in range(1000)]",
    "string_times_1e9": 's = "a" * 10**9',
    "string_join_of_1e6": 'l = ["ab"] * 10**6\ns = ", ".join(l)',
    "string_replace_growth": 's = "a" * 5000\nt = s.replace("a", "aaaa")',
    "string_ljust_1e9": 's = "a".ljust(10**9)',
    "string_split_to_list_in_loop": (
        's = "a " * 4000\nl = []\nfor i in range(10000):\n    l.extend(s.split())'
    ),
    "dict_update_in_loop": "d = {}\nfor i in range(100000):\n    d[i] = [0] * 10**6",
    "set_of_range_1e9": "s = set(range(10**9))",
    "sorted_of_range_1e9": "s = sorted(range(10**9))",
    # time bombs
    "power_tower": "10 ** 10 ** 8",
    "power_of_two": "2 ** 10 ** 9",
    "shift_1e9": "1 << 10**9",
    "for_range_1e12": "for i in range(10**12):\n    pass",
    "nested_loops_over_cap": "for i in range(1000):\n    for j in range(1000):\n        pass",
    "parentheses_5000_deep": "(" * 5000 + "1" + ")" * 5000,
    "unary_minus_100k": "x = " + "-" * 100_000 + "1",
    "unary_not_40k": "x = " + "not " * 40_000 + "1",
    "script_10mb": "x = 1\n" * (10 * 2**20 // 6),
    # bombs found while writing this file
    "percent_format_huge_width": "x = torch.ones(1)\ns = '%999999999s' % x",
    "string_times_tensor": "n = torch.tensor(10**9)\ns = 'a' * n",
    "list_times_tensor": "n = torch.tensor(10**9)\ns = [0] * n",
    "sum_of_nested_lists": _L6 + "m = [l] * 1000\ns = sum(m, [])",
    "repr_of_nested_list": _M6 + "m",
    "print_of_nested_list": _M6 + "print(m)",
    "fstring_of_nested_list": _M6 + "s = f'{m}'",
    "compare_nested_lists": _M6 + "k = [0] * 10**6\nn = [k] * 10**6\nm == n",
    "tensor_of_ragged_nested_list": _L6 + "b = [l] * 1000\nt = torch.tensor([[0.0], b])",
    "round_to_negative_1e9": "round(1, -10**9)",
    "one_hot_inferred_classes": "y = F.one_hot(torch.tensor([10**9]))",
    "transformer_1e6_layers": (
        "layer = nn.TransformerEncoderLayer(2, 1, dim_feedforward=1)\n"
        "encoder = nn.TransformerEncoder(layer, 10**6)"
    ),
    "sequential_1e6_layers": (
        "m = nn.Linear(1, 1)\nl = [m] * 10**6\ns = nn.Sequential(*l)\ny = s(torch.ones(1))"
    ),
    "cat_of_1e6_tensors": "x = torch.ones(100)\ny = torch.cat([x] * 10**6)",
    "stack_graph_1e6_inputs": "x = torch.ones(1, requires_grad=True)\ny = torch.stack([x] * 10**6)",
    "graph_100k_nodes_backward": _DEEP_GRAPH + "y.backward()",
    "append_big_lists_in_loop": "l = []\nfor i in range(100000):\n    l.append([0] * 10**6)",
    # float64: 160 MB a step, so the 4 GiB budget stops it in 26 steps, not 52
    "rebind_big_tensor_in_loop": (
        "x = torch.ones(2 * 10**7, dtype=torch.float64)\nfor i in range(1000):\n    x = x + 1"
    ),
    # outputs far larger than their inputs, sized before the call runs
    "linear_forward_1_5e9": "x = torch.ones(15000, 1)\nm = nn.Linear(1, 10**5)\ny = m(x)",
    "functional_linear_1_5e9": "x = torch.ones(15000, 1)\ny = F.linear(x, torch.ones(10**5, 1))",
    "embedding_forward_1_5e9": (
        "m = nn.Embedding(10, 10**5)\ny = m(torch.zeros(15000, dtype=torch.long))"
    ),
    "conv_padding_3_6e9": "m = nn.Conv2d(1, 1, 1, padding=30000)\ny = m(torch.ones(1, 1, 1, 1))",
    "feedforward_inside_layer": (
        "m = nn.TransformerEncoderLayer(2, 1, dim_feedforward=10**5)\n"
        "y = m(torch.ones(15000, 1, 2))"
    ),
    "method_add_outer_1e10": _VECTORS + "c = a[:, None].add(b[None, :])",
    "allclose_outer_1e10": _VECTORS + "c = torch.allclose(a[:, None], b[None, :])",
    # torch handed something to call, or lists to walk, that would crash it
    "activation_autograd_node": _GRAD_FN
    + "m = nn.TransformerEncoderLayer(2, 1, dim_feedforward=2, activation=y.grad_fn)\n"
    + "z = m(torch.ones(3, 1, 2))",
    "norm_autograd_node": _GRAD_FN
    + "l = nn.TransformerEncoderLayer(2, 1, dim_feedforward=2)\n"
    + "m = nn.TransformerEncoder(l, 1, norm=y.grad_fn)\nz = m(torch.ones(3, 1, 2))",
    "index_by_list_99999_deep": _DEEP_LIST + "x = torch.ones(3)\ny = x[a]",
    "assign_by_list_99999_deep": _DEEP_LIST + "x = torch.ones(3)\nx[a] = 1.0",
    "print_list_99999_deep": _DEEP_LIST + "print(a)",
    # the wider tensor, linalg, functional and layer API: calls whose result outgrows E * E
    "einsum_outer_of_three": _VECTORS + "c = torch.einsum('i,j,k->ijk', a, b, a)",
    "functional_conv_padding": (
        "x = torch.ones(1, 1, 1, 1)\ny = F.conv2d(x, torch.ones(1, 1, 1, 1), padding=30000)"
    ),
    "functional_conv_dilation": (
        "x = torch.ones(1, 1, 10, 10)\nw = torch.ones(1, 1, 3, 3)\n"
        "y = F.conv2d(x, w, padding=40000, dilation=20000)"
    ),
    "conv_transpose_dilation": (
        "m = nn.ConvTranspose2d(1, 1, 3, dilation=30000)\ny = m(torch.ones(1, 1, 2, 2))"
    ),
    "interpolate_to_1e10": "y = F.interpolate(torch.ones(1, 1, 2, 2), size=(10**5, 10**5))",
    "upsample_scale_5e4": "m = nn.Upsample(scale_factor=50000)\ny = m(torch.ones(1, 1, 2, 2))",
    "repeat_1e11": "x = torch.ones(10)\ny = x.repeat(10**5, 10**5)",
    "tile_1e11": "x = torch.ones(10)\ny = torch.tile(x, (10**5, 10**5))",
    "repeat_interleave_int": "x = torch.ones(10)\ny = x.repeat_interleave(10**9)",
    "repeat_interleave_by_values": (
        "x = torch.ones(10)\ny = torch.repeat_interleave(x, torch.tensor([10**9] * 10))"
    ),
    "kron_8e9": "a = torch.ones(3000, 3000)\nc = torch.kron(a, torch.ones(30, 30))",
    "linalg_svd_3000": "a = torch.ones(3000, 3000)\nb = torch.linalg.svd(a)",
    "linalg_eig_4000": "a = torch.ones(4000, 4000)\nb = torch.linalg.eig(a)",
    "tensor_det_4000": "a = torch.ones(4000, 4000)\nb = a.det()",
    "nuclear_norm_4000": "a = torch.ones(4000, 4000)\nb = torch.linalg.matrix_norm(a, 'nuc')",
    "init_orthogonal_4000": "w = torch.ones(4000, 4000)\nnn.init.orthogonal_(w)",
    "lstm_hidden_1e5": "m = nn.LSTM(10, 10**5)",
    "lstm_1e6_layers": "m = nn.LSTM(2, 2, num_layers=10**6)",
    "lstm_long_sequence": "m = nn.LSTM(1, 1000)\ny = m(torch.ones(30000, 1, 1))",
    "transformer_1e6_encoder_layers": (
        "m = nn.Transformer(d_model=4, nhead=1, num_encoder_layers=10**6)"
    ),
    "multihead_attention_embed_1e5": "m = nn.MultiheadAttention(10**5, 1)",
    "bincount_of_a_large_value": "y = torch.bincount(torch.tensor([10**10]))",
    "histc_1e10_bins": "y = torch.histc(torch.ones(3), bins=10**10)",
    "combinations_r4": "y = torch.combinations(torch.ones(1000), r=4)",
    "cartesian_prod_of_three": _VECTORS + "c = torch.cartesian_prod(a, b, a)",
    "new_zeros_1e12": "x = torch.ones(2)\ny = x.new_zeros(10**6, 10**6)",
    "diag_offset_1e6": "y = torch.diag(torch.ones(2), 10**6)",
    "addcmul_three_way_broadcast": (
        "a = torch.ones(1000)\n"
        "y = torch.addcmul(a[:, None, None], a[None, :, None], a[None, None, :])"
    ),
    "unfold_padding": "y = F.unfold(torch.ones(1, 1, 2, 2), kernel_size=1, padding=40000)",
    "fold_to_1e10": (
        "y = F.fold(torch.ones(1, 1, 1), output_size=(10**5, 10**5), kernel_size=1, stride=10**5)"
    ),
    "adaptive_pool_to_1e10": "y = F.adaptive_avg_pool2d(torch.ones(1, 1, 2, 2), (10**5, 10**5))",
    "affine_grid_2e10": "y = F.affine_grid(torch.ones(1, 2, 3), (1, 1, 10**5, 10**5))",
    "zero_pad_layer_5e4": "m = nn.ZeroPad2d(50000)\ny = m(torch.ones(1, 1, 1, 1))",
    "randperm_1e10": "y = torch.randperm(10**10)",
    "tril_indices_1e6": "y = torch.tril_indices(10**6, 10**6)",
    "unbind_1e6_rows": "x = torch.ones(10**6)\ny = x.unbind()",
    "split_into_single_rows": "x = torch.ones(10**7)\ny = torch.split(x, 1)",
    "tensor_split_1e9_sections": "y = torch.tensor_split(torch.ones(10), 10**9)",
}

# Runs in a child: bombs from a JSON file in order, one JSON line of results per bomb.
_CHILD = r"""
import gc, json, os, resource, sys, time

def _status(key):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

def _reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False

from explorer.runs.session import run_script
run_script("x = torch.ones(3, requires_grad=True)\ny = (x * x).sum()\ny.backward()")
print(json.dumps({"ready": True}), flush=True)
with open(sys.argv[1]) as f:
    bombs = json.load(f)
for name, text in bombs:
    gc.collect()  # each bomb starts clean: a finished run is freed only by the cycle collector
    # The peak from here on: reset it if Linux lets us, else count only a new peak.
    base = _status("VmRSS") if _reset_peak() else _status("VmHWM")
    start = time.perf_counter()
    result = {"name": name, "status": "done", "problem": None, "raised": None}
    try:
        problem = run_script(text).problem
        if problem is not None:
            result["problem"] = {
                "message": problem.message, "line": problem.line, "column": problem.column
            }
    except BaseException as error:
        result["raised"] = (type(error).__name__ + ": " + str(error))[:500]
    result["seconds"] = time.perf_counter() - start
    result["peak_growth"] = max(0, _status("VmHWM") - base)
    result["written"] = sorted(os.listdir("."))
    print(json.dumps(result), flush=True)
"""


def _cap_memory() -> None:  # preexec_fn of a bomb child
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def _pump(stream: Any, lines: queue.Queue) -> None:
    with stream:
        for line in stream:
            lines.put(line)
    lines.put(None)


def _start_child(bombs: list[tuple[str, str]], work: Path, scratch: Path, number: int) -> Any:
    path = scratch / f"bombs-{number}.json"
    path.write_text(json.dumps(bombs))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.setdefault("OMP_NUM_THREADS", "2")  # each thread reserves address space
    env.setdefault("MALLOC_ARENA_MAX", "2")
    stderr = (scratch / f"stderr-{number}.txt").open("w")
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(path)],
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        preexec_fn=_cap_memory,
    )
    stderr.close()
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_pump, args=(child.stdout, lines), daemon=True).start()
    return child, lines


def _stop(child: subprocess.Popen) -> int:
    if child.poll() is None:
        child.kill()
    return child.wait()


def run_bombs(bombs: dict[str, str], work: Path, scratch: Path) -> dict[str, dict[str, Any]]:
    """Run every bomb in as few children as possible: a hung or crashed bomb costs a restart."""
    results: dict[str, dict[str, Any]] = {}
    pending = list(bombs.items())
    number = 0
    while pending:
        number += 1
        child, lines = _start_child(pending, work, scratch, number)
        try:
            ready = lines.get(timeout=STARTUP_TIMEOUT)
        except queue.Empty:
            ready = None
        if ready is None:
            _stop(child)
            detail = (scratch / f"stderr-{number}.txt").read_text()[-2000:]
            raise RuntimeError(f"a bomb child did not start:\n{detail}")
        finished: list[str] = []
        while pending:
            name = pending[0][0]
            try:
                line = lines.get(timeout=BOMB_TIMEOUT)
            except queue.Empty:
                _stop(child)
                results[name] = {"status": "timeout", "seconds": BOMB_TIMEOUT}
                pending.pop(0)
                break
            if line is None:
                code = _stop(child)
                detail = (scratch / f"stderr-{number}.txt").read_text()[-1000:]
                results[name] = {"status": "crashed", "exit": code, "stderr": detail}
                pending.pop(0)
                break
            result = json.loads(line)
            assert result["name"] == name
            results[name] = result
            finished.append(name)
            pending.pop(0)
        else:
            code = child.wait(timeout=60)
            for name in finished:
                results[name]["exit"] = code
    return results


@pytest.fixture(scope="module")
def bomb_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    work = tmp_path_factory.mktemp("bomb-cwd")
    scratch = tmp_path_factory.mktemp("bomb-scratch")
    results = run_bombs(BOMBS, work, scratch)
    assert sorted(p.name for p in work.iterdir()) == [], "a bomb wrote a file"
    return results


@pytest.mark.parametrize("name", list(BOMBS))
def test_bomb_is_refused_quickly_without_allocating(
    name: str, bomb_results: dict[str, dict[str, Any]]
) -> None:
    result = bomb_results[name]
    assert result["status"] != "timeout", f"still running after {BOMB_TIMEOUT:g} s: killed"
    assert result["status"] != "crashed", f"the child process died: {result}"
    assert result["raised"] is None, f"run_script raised {result['raised']}"
    problem = result["problem"]
    assert_clear_refusal(BOMBS[name], None if problem is None else Problem(**problem))
    assert result["seconds"] < SECONDS, f"took {result['seconds']:.1f} s"
    growth = result["peak_growth"] / 2**20
    assert result["peak_growth"] < PEAK_GROWTH, f"resident memory grew by {growth:.0f} MiB"
    assert result["written"] == [], f"wrote {result['written']}"
    assert result.get("exit", 0) == 0, f"the child exited with {result['exit']}"
