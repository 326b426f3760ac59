"""Write the README's screenshots: the window mid-backward, light and dark.

Run it under a display, such as a virtual one:
    xvfb-run -s "-screen 0 1600x1000x24" python docs/make_screenshots.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from explorer.ui.harness import open_window, settle, wait_for  # noqa: E402

SCRIPT = """\
# The chain rule, as in the gradient-descent notes
x = torch.full((2,3), 4., requires_grad=True)
w = torch.tensor(0.5, requires_grad=True)
y = 2*x**2 + 3
loss = (w * y).mean()
loss.backward()
x.grad
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


if __name__ == "__main__":
    main()
