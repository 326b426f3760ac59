"""How the calls of the wider tensor, linalg and layer API are sized before they run.

calls.py holds the rules (meta-device sizing, the E * E rule); this module says which of the
wider API's calls each rule takes, and checks what the meta device cannot tell: sizes read
from a tensor's values, and the time of a matrix decomposition.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import torch
from torch import nn

from explorer.lang import tables
from explorer.lang.errors import LimitError
from explorer.lang.limits import Budget

# Calls whose result can outgrow E * E: sizes, repeats, offsets, paddings, dilations, scale
# factors or many operands decide it. They are sized on meta whatever their inputs.
GROWING = frozenset(
    "repeat tile repeat_interleave kron einsum cartesian_prod meshgrid broadcast_tensors "
    "combinations vander diag diag_embed diagflat new_zeros new_ones new_full new_tensor "
    "unfold fold conv1d conv2d conv3d conv_transpose1d conv_transpose2d conv_transpose3d "
    "interpolate upsample upsample_nearest upsample_bilinear adaptive_avg_pool1d "
    "adaptive_avg_pool2d adaptive_avg_pool3d adaptive_max_pool1d adaptive_max_pool2d "
    "affine_grid randperm logspace tril_indices triu_indices multinomial normal".split()
)
META_DEVICE = frozenset("randperm logspace tril_indices triu_indices".split())  # constructors
GROWING_LAYERS = (
    nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d, nn.Upsample,
    nn.UpsamplingNearest2d, nn.UpsamplingBilinear2d, nn.AdaptiveAvgPool1d,
    nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d, nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d,
    nn.Unfold, nn.Fold, nn.ZeroPad1d, nn.ZeroPad2d, nn.ConstantPad1d, nn.ConstantPad2d,
    nn.ReflectionPad1d, nn.ReflectionPad2d, nn.ReplicationPad1d, nn.ReplicationPad2d,
)  # fmt: skip
# Elementwise calls make the broadcast shape of their tensors (addcmul and lerp broadcast
# three): that shape is checked.
ELEMENTWISE = (
    tables.POINTWISE
    | frozenset(f"{name}_" for name in tables.POINTWISE if f"{name}_" in tables.TENSOR_METHODS)
    | frozenset("masked_scatter masked_scatter_ eq_ ne_ lt_ le_ gt_ ge_".split())
)
# Calls that make at most what their one tensor holds: reductions, sorting, views, in-place
# changes and conversions.
BOUNDED = (
    tables.REDUCTIONS
    | tables.INIT_MEMBERS
    | frozenset(
        "narrow movedim moveaxis swapaxes swapdims unflatten diagonal select split chunk "
        "unbind tensor_split hsplit vsplit dsplit flip fliplr flipud roll rot90 tril triu "
        "trace ravel adjoint t_ transpose_ squeeze_ unsqueeze_ to half bfloat16 short byte "
        "char element_size nelement ndimension is_contiguous stride tril_ triu_ "
        "fill_diagonal_ bernoulli_ exponential_ random_ relu_ atleast_1d atleast_2d "
        "atleast_3d".split()
    )
)

# Decompositions and the calls made of them (inverses, ranks, spectral norms): cubic in time.
_DECOMPOSITIONS = frozenset(
    "det logdet slogdet inverse pinverse qr svd matrix_exp matrix_power orthogonal_".split()
)
_SPECTRAL_ORDERS = ("nuc", 2, -2)  # norms worked out from singular values


def check_before(
    budget: Budget, qualname: str, short: str, target: Any, args: tuple, kwargs: dict[str, Any]
) -> None:
    """What the meta device cannot tell of a call: its time, or sizes read from values."""
    owner = getattr(target, "__self__", None)
    given = (owner, *args) if isinstance(owner, torch.Tensor) else args
    _check_pieces(budget, short, given, kwargs)
    if isinstance(target, nn.RNNBase):
        _check_recurrent(budget, target, args)
    elif _decomposes(qualname, short, args, kwargs):
        if isinstance(owner, torch.Tensor):
            args = (owner, *args)
        matrix = args[0] if args else kwargs.get("A", kwargs.get("input", kwargs.get("tensor")))
        _check_decomposition(budget, matrix, short)
    elif short == "new_tensor" and args:
        budget.check_elements(_nested_shape(args[0]), "tensor")
    elif short in _FROM_VALUES:
        _FROM_VALUES[short](budget, _bound(target, args, kwargs))


def _decomposes(qualname: str, short: str, args: tuple, kwargs: dict[str, Any]) -> bool:
    if qualname.startswith("torch.linalg."):
        if short in ("norm", "matrix_norm"):
            order = args[1] if len(args) > 1 else kwargs.get("ord")
            return isinstance(order, int | str) and order in _SPECTRAL_ORDERS
        return short in tables.LINALG_DECOMPOSITIONS
    return short in _DECOMPOSITIONS


def _check_decomposition(budget: Budget, matrix: Any, short: str) -> None:
    if not isinstance(matrix, torch.Tensor) or matrix.dim() < 1:
        return
    shape = tuple(matrix.shape)
    if short == "orthogonal_" and len(shape) > 1:  # nn.init works on the weight's rows
        shape = (shape[0], math.prod(shape[1:]))
    rows = shape[0] if len(shape) == 1 else shape[-2]
    columns = 1 if len(shape) == 1 else shape[-1]
    batch = math.prod(shape[:-2])
    cost = batch * max(rows, columns) * min(rows, columns) ** 2
    if cost > budget.limits.max_call_steps:
        raise LimitError(
            f"this matrix decomposition of shape {tuple(matrix.shape)} would take about "
            f"{cost:,} steps; the limit is {budget.limits.max_call_steps:,} "
            "(about a 1,260 x 1,260 matrix)",
            hint="use smaller matrices",
        )


def _check_recurrent(budget: Budget, layer: nn.RNNBase, args: tuple) -> None:
    """A recurrent layer runs one step per time step and batch row, each using every weight:
    a long sequence through a wide layer takes long while its sizes stay small."""
    sequence = args[0] if args else None
    if not isinstance(sequence, torch.Tensor) or not layer.input_size:
        return
    rows = sequence.numel() // layer.input_size
    cost = rows * sum(p.numel() for p in layer.parameters())
    if cost > budget.limits.max_call_steps:
        raise LimitError(
            f"this {type(layer).__name__} call would take about {cost:,} steps "
            f"({rows:,} time steps and batch rows, each through every weight); the limit is "
            f"{budget.limits.max_call_steps:,}",
            hint="use shorter sequences or a smaller hidden_size",
        )


_SPLITS = frozenset("unbind split chunk tensor_split hsplit vsplit dsplit".split())
_SPLIT_DIMS = {"vsplit": 0, "hsplit": 1, "dsplit": 2}


def _check_pieces(budget: Budget, short: str, args: tuple, kwargs: dict[str, Any]) -> None:
    """A call makes a Python object per tensor it returns: splitting a long tensor into
    single rows, or a tensor_split into a billion sections, would fill memory with them."""
    pieces = sum(isinstance(a, torch.Tensor) for a in args)  # f(*tensors) returns as many
    if short in _SPLITS and args and isinstance(args[0], torch.Tensor):
        pieces = max(pieces, _split_pieces(short, args, kwargs))
    if pieces > budget.limits.max_tensor_list:
        raise LimitError(
            f"this call would make {pieces:,} tensors; at most "
            f"{budget.limits.max_tensor_list:,} can be made at once",
            hint="split into fewer, larger pieces",
        )


def _split_pieces(short: str, args: tuple, kwargs: dict[str, Any]) -> int:
    tensor = args[0]
    given = [v for k, v in kwargs.items() if k != "dim"]
    sections = args[1] if len(args) > 1 else (given[0] if given else None)
    dim = kwargs.get("dim", args[2] if len(args) > 2 else _SPLIT_DIMS.get(short, 0))
    if short == "hsplit" and tensor.dim() == 1:
        dim = 0
    if not isinstance(dim, int) or not -tensor.dim() <= dim < max(tensor.dim(), 1):
        return 0  # the real call reports the wrong dimension
    length = tensor.shape[dim] if tensor.dim() else 0
    if short == "unbind":
        return length
    if isinstance(sections, list | tuple | torch.Tensor):
        return len(sections) + (short != "split")
    if not isinstance(sections, int) or sections <= 0:
        return 0
    if short == "split":
        return -(-length // sections)
    return min(sections, length) if short == "chunk" else sections


def _nested_shape(data: Any) -> tuple[int, ...]:
    """The shape torch.tensor would give nested lists, read from first elements only."""
    shape = []
    while isinstance(data, list | tuple) and len(shape) < 64:
        shape.append(len(data))
        if not data:
            break
        data = data[0]
    return tuple(shape)


def _bound(target: Any, args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The call's arguments by name (self as "input"), or {} when they do not bind."""
    owner = getattr(target, "__self__", None)
    if isinstance(owner, torch.Tensor):
        args = (owner, *args)
    name = getattr(target, "__name__", "")
    signature = _SIGNATURES.get(name)
    if signature is None:
        return {}
    try:
        return dict(signature.bind(*args, **kwargs).arguments)
    except TypeError:
        return {}  # the real call reports the wrong arguments


def _repeat_interleave(budget: Budget, bound: dict[str, Any]) -> None:
    """With repeats a tensor, the result's length is their sum: read it first."""
    data, repeats = bound.get("input"), bound.get("repeats")
    if repeats is None and isinstance(data, torch.Tensor):
        data, repeats = torch.ones(1), data  # torch.repeat_interleave(repeats)
    if not isinstance(repeats, torch.Tensor) or not isinstance(data, torch.Tensor):
        return
    if repeats.numel() == 1:
        total = int(repeats) * max(data.numel(), 1)
    else:
        total = int(repeats.clamp(min=0).sum()) * max(data.numel(), 1) // repeats.numel()
    budget.check_elements((total,))


def _bincount(budget: Budget, bound: dict[str, Any]) -> None:
    data = bound.get("input")
    length = bound.get("minlength", 0)
    if isinstance(data, torch.Tensor) and data.numel() and not data.is_floating_point():
        length = max(int(length) if isinstance(length, int) else 0, int(data.max()) + 1)
    if isinstance(length, int):
        budget.check_elements((length,))


def _histc(budget: Budget, bound: dict[str, Any]) -> None:
    bins = bound.get("bins", 100)
    if isinstance(bins, int):
        budget.check_elements((bins,))


def _combinations(budget: Budget, bound: dict[str, Any]) -> None:
    """torch makes the grid of all r-tuples first: n ** r elements, from r tensors."""
    data, r = bound.get("input"), bound.get("r", 2)
    if not isinstance(data, torch.Tensor) or not isinstance(r, int) or r < 0:
        return
    if r > budget.limits.max_tensor_list:
        raise LimitError(
            f"combinations of {r:,} would make as many tensors; at most "
            f"{budget.limits.max_tensor_list:,} can be combined at once",
            hint="use a smaller r",
        )
    budget.check_elements((len(data),) * r if data.dim() else ())


_FROM_VALUES = {
    "repeat_interleave": _repeat_interleave,
    "bincount": _bincount,
    "histc": _histc,
    "combinations": _combinations,
}


def _signature(*names: str) -> inspect.Signature:
    """A plain signature for a builtin torch function that has none to inspect."""
    first, *rest = names
    parameters = [inspect.Parameter(first, inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    parameters += [
        inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None) for n in rest
    ]
    return inspect.Signature(parameters)


_SIGNATURES = {
    "repeat_interleave": _signature("input", "repeats", "dim", "output_size"),
    "bincount": _signature("input", "weights", "minlength"),
    "histc": _signature("input", "bins", "min", "max"),
    "combinations": _signature("input", "r", "with_replacement"),
}


# -- layers ------------------------------------------------------------------------------------

_LAYER_COUNTS = ("num_layers", "num_encoder_layers", "num_decoder_layers")


def check_layer_counts(budget: Budget, cls: type[nn.Module], args: tuple, kwargs: dict) -> None:
    """Stacks of layers (nn.LSTM, nn.Transformer) are built layer by layer even on the meta
    device: their count is checked before."""
    if issubclass(cls, nn.RNNBase):  # takes *args: num_layers comes third
        layers = kwargs.get("num_layers", args[2] if len(args) > 2 else 1)
        budget.check_modules(layers if isinstance(layers, int) else 0)
        return
    try:
        bound = inspect.signature(cls).bind_partial(*args, **kwargs)
    except (TypeError, ValueError):
        return
    layers = 0
    for name, parameter in bound.signature.parameters.items():
        if name in _LAYER_COUNTS:
            value = bound.arguments.get(name, parameter.default)
            layers += value if isinstance(value, int) and value > 0 else 0
    budget.check_modules(layers)


def held_modules(args: tuple, kwargs: dict) -> list[Any]:
    """What a container of layers is given: layers, in lists, tuples or a dict's values."""
    held: list[Any] = []
    for value in (*args, *kwargs.values()):
        if isinstance(value, dict):
            held.extend(list(value.values())[:100_000])
        elif isinstance(value, list | tuple):
            held.extend(value[:100_000])
        else:
            held.append(value)
    return [m for m in held if isinstance(m, nn.Module)]
