"""Executed notebooks for tests: code cells run in a real IPython kernel, their outputs as data.

`run_notebook(["x = 21", "x * 2"], tmp_path)` runs the cells in order in a fresh kernel of this
interpreter, with the working directory `cwd` and this checkout's `explorer` importable, and gives
each cell's outputs. A kernel that cannot start skips the test and says why.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
KERNEL = "python3"
# ipykernel in this very interpreter, whatever other kernel specs are installed.
LAUNCHER = [sys.executable, "-m", "ipykernel_launcher"]
# How long a kernel may take to start before the test skips: a loaded CI machine is slow.
STARTUP_TIMEOUT_S = 120


@dataclass(frozen=True)
class Output:
    """One output of a cell, as nbformat has it."""

    output_type: str  # "execute_result", "display_data", "stream" or "error"
    data: dict[str, Any] = field(default_factory=dict)  # by MIME type: "text/plain", "text/html"
    name: str = ""  # a stream's: "stdout" or "stderr"
    text: str = ""  # a stream's text
    ename: str = ""  # an error's exception class
    evalue: str = ""  # an error's message


class KernelUnavailable(Exception):
    """The kernel did not start: the notebook never ran."""


def run_notebook(cells: list[str], cwd: Path, timeout: int = 300) -> list[list[Output]]:
    """The outputs of each cell, executed in order; `timeout` is in seconds for each cell.

    A cell that raises gives an "error" output and the cells after it still run.
    """
    try:
        import nbformat
        from nbclient import NotebookClient  # noqa: F401 (only to find out it is there)
    except ImportError as missing:
        pytest.skip(f"no {missing.name}: pip install -e '.[test]' (it executes notebooks)")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    # A thread of its own, so that its event loop is new and closed after, whatever loop this
    # thread has (the browser harness's sync API marks one as running).
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(lambda: asyncio.run(_execute(notebook, cwd, timeout)))
        try:
            executed = future.result()
        except KernelUnavailable as error:
            pytest.skip(f"no IPython kernel could be started for {sys.executable}: {error}")
    return [[_output(o) for o in cell.outputs] for cell in executed.cells]


async def _execute(notebook: Any, cwd: Path, timeout: int) -> Any:
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient

    with tempfile.TemporaryDirectory(prefix="kernel-") as scratch:
        home = Path(scratch)
        specs = KernelSpecManager(kernel_dirs=[str(_kernel_spec(home))], ensure_native_kernel=False)
        manager = AsyncKernelManager(
            kernel_name=KERNEL,
            kernel_spec_manager=specs,
            connection_file=str(home / "connection.json"),
        )
        client = NotebookClient(
            notebook,
            km=manager,
            timeout=timeout,
            startup_timeout=STARTUP_TIMEOUT_S,
            allow_errors=True,
            kernel_name=KERNEL,
        )
        try:
            await client.async_start_new_kernel(env=_kernel_env(home), cwd=str(cwd))
            await client.async_start_new_kernel_client()
        except (RuntimeError, TimeoutError, OSError) as error:
            if manager.has_kernel:
                await manager.shutdown_kernel(now=True)
            raise KernelUnavailable(str(error) or type(error).__name__) from error
        return await client.async_execute(cleanup_kc=True)


def _kernel_spec(home: Path) -> Path:
    spec = home / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [*LAUNCHER, "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "Python 3", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel), encoding="utf-8")
    return spec.parent


def _kernel_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    # No display to find: what draws with Qt in the kernel draws offscreen, as the tests do.
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND"):
        env.pop(name, None)
    env["QT_QPA_PLATFORM"] = "offscreen"
    # This checkout's package, whatever `cwd` is and wherever the editable install points.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    # IPython's profile and history go to the scratch folder, not the user's home.
    env["IPYTHONDIR"] = str(home / "ipython")
    # Quiet in the kernel: jupyter_core's notice of its move to platformdirs, and debugpy's of
    # frozen modules, would come out as stderr in the cells' outputs.
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    return env


def _output(raw: Any) -> Output:
    return Output(
        output_type=raw["output_type"],
        data=dict(raw.get("data", {})),
        name=raw.get("name", ""),
        text=raw.get("text", ""),
        ename=raw.get("ename", ""),
        evalue=raw.get("evalue", ""),
    )
