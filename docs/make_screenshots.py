"""Write the README's screenshots: the window mid-backward (light and dark), a transformer
encoder with three layers collapsed and the last open in its module cards, and a lesson with the
gradient-descent pane after 50 steps.

Run it under a display, such as a virtual one:
    xvfb-run -s "-screen 0 1600x1000x24" python docs/make_screenshots.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))  # the window harness

from harness import open_window, settle, wait_for  # noqa: E402

SCRIPT = """\
# The chain rule, as in the gradient-descent notes
x = torch.full((2,3), 4., requires_grad=True)
w = torch.tensor(0.5, requires_grad=True)
y = 2*x**2 + 3
loss = (w * y).mean()
loss.backward()
x.grad
"""
ENCODER = """\
import torch
from torch import nn

layer = nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=32, dropout=0.0)
model = nn.TransformerEncoder(layer, num_layers=4, enable_nested_tensor=False)
example_input = torch.randn(5, 2, 16)
"""


def main() -> None:
    out = ROOT / "docs" / "images"
    out.mkdir(parents=True, exist_ok=True)
    with open_window(1500, 900) as window:
        window.editor.setPlainText(SCRIPT)
        window.document.set_modified(False)
        window.run_script()
        wait_for(window.model.snapshot_changed)
        for theme in ("light", "dark"):
            window.set_theme(theme)
            window.model.to_start()
            for _ in range(4):
                window.model.step_forward()
            window.graph.fit()
            settle()
            window.grab().save(str(out / f"window-{theme}.png"))
            print("wrote", out / f"window-{theme}.png")
        window.set_theme("light")
    with open_window(1500, 900) as window:
        descent(window, out / "descent.png")
    with tempfile.TemporaryDirectory() as folder, open_window(1500, 900, trust=True) as window:
        path = Path(folder) / "encoder.py"
        path.write_text(ENCODER, encoding="utf-8")
        window.run_model_file(path)
        wait_for(window.model.snapshot_changed)
        window.backward()
        wait_for(window.model.snapshot_changed)
        window.model.stop()
        # every call collapsed to a card but the model and its last layer, open in frames
        calls = set(window.model.call_tree.all_calls)
        window.model.set_collapsed(calls - {"model", "model.layers.3"})
        for _ in range(60):
            window.model.step_forward()
        window.graph.fit()
        settle()
        window.grab().save(str(out / "modules.png"))
        print("wrote", out / "modules.png")


def descent(window, path: Path) -> None:
    """The gradient-descent lesson, 50 steps taken in its pane."""
    (lesson,) = [a for a in window.examples_menu.actions() if "gradient descent" in a.text()]
    lesson.trigger()
    wait_for(window.model.snapshot_changed)
    window.docks["descent"].raise_()
    panel = window.descent_panel
    panel.rate.setText("0.05")
    panel.steps.setText("50")
    settle()
    panel.run()
    for _ in range(60):  # the run goes in chunks through the worker
        settle(500)
        if not panel.busy():
            break
    settle()
    window.grab().save(str(path))
    print("wrote", path)


if __name__ == "__main__":
    main()
