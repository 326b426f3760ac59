"""Autograd Explorer: see PyTorch's autograd graph and step through its backward pass."""

from __future__ import annotations

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """explorer.record, explorer.capture and explorer.Recording, imported when first used: the
    window's side of the package imports no torch (explorer/runs/recorded.py does)."""
    if name in ("record", "capture", "Recording"):
        from explorer.runs import recorded

        return getattr(recorded, name)
    raise AttributeError(f"module 'explorer' has no attribute {name!r}")
