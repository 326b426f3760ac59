"""Tensors as plain data: every value when small, statistics and the first values when large."""

from __future__ import annotations

import torch

from explorer.snapshot import FULL_VALUES_LIMIT, HEAD_LENGTH, TensorSummary


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def summarize(tensor: torch.Tensor) -> TensorSummary:
    """A copy of what the tensor holds now, safe from later in-place changes."""
    data = tensor.detach()
    shape = tuple(data.shape)
    summary = TensorSummary(shape, dtype_name(data.dtype), requires_grad=tensor.requires_grad)
    if data.is_complex() or data.is_sparse or data.device.type != "cpu":
        return summary
    if data.numel() <= FULL_VALUES_LIMIT:
        values = data.numpy(force=True) if data.dtype != torch.bfloat16 else data.float().numpy()
        summary.values = values.copy()
        return summary
    flat = data.reshape(-1)
    summary.head = flat[:HEAD_LENGTH].tolist()
    as_float = flat.double() if data.is_floating_point() else flat.to(torch.float64)
    summary.stats = {
        "min": as_float.min().item(),
        "max": as_float.max().item(),
        "mean": as_float.mean().item(),
        "norm": as_float.norm().item(),
    }
    return summary
