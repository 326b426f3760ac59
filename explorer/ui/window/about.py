"""The About box: what this is and the versions it runs on (read without importing torch)."""

from __future__ import annotations

import platform
from importlib import metadata

import pyqtgraph
import PySide6
from PySide6.QtCore import qVersion

from explorer import __version__


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def about_html() -> str:
    rows = [
        ("Autograd Explorer", __version__),
        ("PyTorch", _version("torch")),
        ("Python", platform.python_version()),
        ("Qt", qVersion()),
        ("PySide6", PySide6.__version__),
        ("pyqtgraph", pyqtgraph.__version__),
        ("networkx", _version("networkx")),
        ("NumPy", _version("numpy")),
    ]
    table = "".join(f"<tr><td>{name}</td><td><b>{version}</b></td></tr>" for name, version in rows)
    return (
        "<h3>Autograd Explorer</h3>"
        "<p>See PyTorch's autograd graph and step through the real backward pass.</p>"
        f"<table cellpadding='3'>{table}</table>"
    )
