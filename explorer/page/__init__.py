"""The HTML stepper: one self-contained page that steps through a recorded backward pass.

Drawn from a Snapshot as the window draws it (cards, module frames, gradients on edges) into
inline SVG, with a small script that replays the recorded steps. Imports neither Qt nor torch.
"""

from __future__ import annotations

from explorer.page.document import fragment, page, write_page

__all__ = ["fragment", "page", "write_page"]
