"""Tensors as plain data: every value when small, statistics and the first values when large."""

from __future__ import annotations

import torch

from explorer.data.snapshot import FULL_VALUES_LIMIT, HEAD_LENGTH, TensorSummary

# dtypes numpy holds as they are; others (bfloat16, complex) are converted or summarised
_NUMPY_DTYPES = {
    dtype: str(dtype).removeprefix("torch.")
    for dtype in (
        torch.float32, torch.float64, torch.float16, torch.int64, torch.int32,
        torch.int16, torch.int8, torch.uint8, torch.bool,
    )
}  # fmt: skip


def dtype_name(dtype: torch.dtype) -> str:
    return _NUMPY_DTYPES.get(dtype) or str(dtype).removeprefix("torch.")


def summarize(tensor: torch.Tensor) -> TensorSummary:
    """A copy of what the tensor holds now, safe from later in-place changes."""
    name = _NUMPY_DTYPES.get(tensor.dtype)
    small = tensor.numel() <= FULL_VALUES_LIMIT
    if name is not None and small and tensor.layout == torch.strided:
        # force detaches (and resolves conjugate and negative bits): half the time of detach()
        values = tensor.numpy(force=True).copy()
        return TensorSummary(values.shape, name, values, requires_grad=tensor.requires_grad)
    return _summarize_other(tensor, small)


def _summarize_other(tensor: torch.Tensor, small: bool) -> TensorSummary:
    data = tensor.detach()
    summary = TensorSummary(
        tuple(data.shape), dtype_name(data.dtype), requires_grad=tensor.requires_grad
    )
    if data.is_complex():
        return summary
    if data.layout != torch.strided:
        # A sparse gradient (nn.Embedding(sparse=True)) is shown as the dense tensor it adds
        # up to; a layout with no dense form keeps only its shape.
        try:
            data = data.to_dense()
        except (RuntimeError, NotImplementedError):
            return summary
        summary.sparse = True
    as_float = data.to(torch.float64)
    if small:
        summary.values = as_float.numpy()
        return summary
    flat = as_float.reshape(-1)
    summary.head = tuple(flat[:HEAD_LENGTH].tolist())
    summary.stats = {
        "min": flat.min().item(),
        "max": flat.max().item(),
        "mean": flat.mean().item(),
        "norm": flat.norm().item(),
    }
    return summary
