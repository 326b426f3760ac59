"""File → Export: the graph as a picture or as data, the backward pass as an animation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRectF, QSettings, QStandardPaths, Qt
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QProgressDialog, QWidget

from explorer.data.export import write as write_data
from explorer.ui.exports import passes as pass_export
from explorer.ui.exports.dialog import KINDS, ExportDialog, ExportRequest, Kind
from explorer.ui.exports.images import READABLE_PX, ImageOptions, picture_bytes, write_file
from explorer.ui.exports.saved import complete
from explorer.ui.graph.view import GraphView
from explorer.ui.model import ExplorerModel

Ask = Callable[[Kind, Path, str], ExportRequest | None]


class GraphExports(QObject):
    """The Export submenu and what its entries do.

    `ask` (which file, what it shows) and `warn` (a failure) are dialogs in the window and
    plain functions in tests, as the window's own `ask_restore` is.
    """

    def __init__(
        self,
        parent: QWidget,
        menu: QMenu,
        model: ExplorerModel,
        graph: GraphView,
        settings: QSettings,
        status: Callable[[str], None],
        stem: Callable[[], str],
    ) -> None:
        super().__init__(parent)
        self._parent, self.model, self.graph = parent, model, graph
        self.settings, self._status, self._stem = settings, status, stem
        self.ask: Ask = self._ask_dialog
        self.warn: Callable[[str], None] = self._warn_box
        self.actions: dict[str, QAction] = {}
        self.worker: Any = None  # where the saved tensors a run's message left out are fetched
        for kind in KINDS:
            if kind.key in ("gif", "json"):
                menu.addSeparator()
            action = menu.addAction(kind.menu_text)
            action.triggered.connect(lambda checked=False, k=kind: self.export(k))
            self.actions[kind.key] = action
        model.snapshot_changed.connect(self._on_snapshot_changed)
        self._on_snapshot_changed()

    def _on_snapshot_changed(self) -> None:
        has_graph = self.model.snapshot is not None
        for key, action in self.actions.items():
            animated = key in ("gif", "frames")
            action.setEnabled(has_graph and (self.model.pass_count > 0 or not animated))

    # -- exporting -----------------------------------------------------------------------
    def export(self, kind: Kind | str) -> bool:
        """Ask where and how, then write; False if nothing was written."""
        kind = kind if isinstance(kind, Kind) else next(k for k in KINDS if k.key == kind)
        if self.model.snapshot is None:
            return False
        plan = None
        if kind.animation:
            if not self.model.pass_count:
                self.warn("There is no backward pass to animate yet: press Backward first.")
                return False
            plan = pass_export.plan_frames(self.model, self._pass_index())
        request = self.ask(kind, self._default_path(kind), self._about(plan))
        if request is None or not request.path.name:
            return False
        request = replace(request, path=_with_suffix(request.path, kind))
        self._remember(request)
        try:
            with _busy():
                note = self._write(kind, request, plan)
        except pass_export.Cancelled:
            self._status("Export cancelled.")
            return False
        except (OSError, ValueError, MemoryError) as error:
            self.warn(f"Cannot write {request.path}:\n{_reason(error)}")
            return False
        self._status(f"Exported {request.path}" + (f" · {note}" if note else ""))
        return True

    def _write(self, kind: Kind, request: ExportRequest, plan: Any) -> str:
        path, options = request.path, request.options
        region, scale = self._region(options)
        if kind.key in ("json", "graphml", "dot"):
            assert self.model.call_tree is not None
            laid_out = self.model.call_tree.laid_out()  # the whole layout, made if not yet
            if self.worker is not None:
                complete(laid_out, self.worker)  # every saved tensor, as the worker read it
            write_data(laid_out, path)
            return ""
        if not kind.animation:
            data = picture_bytes(self.model, self.graph.upward, kind.suffix, options, region, scale)
            write_file(path, data)
            return ""
        with self._progress(len(plan.steps)) as progress:
            upward = self.graph.upward
            if kind.key == "gif":
                data = pass_export.gif_bytes(
                    self.model, upward, plan, options, request.frame_ms, region, progress
                )
                write_file(path, data)
            else:
                path.mkdir(exist_ok=True)
                pass_export.write_png_frames(
                    self.model, upward, plan, options, path, region, progress
                )
        return plan.note

    def _region(self, options: ImageOptions) -> tuple[QRectF | None, float | None]:
        """The visible area and its scale on screen (never below a readable one), or None:
        the whole graph at a readable scale."""
        if not options.visible_area:
            return None, None
        pixel = self.graph.view.viewPixelSize()[0]
        on_screen = 1 / pixel if pixel > 0 else READABLE_PX
        return self.graph.view.viewRect(), max(on_screen, READABLE_PX)

    def _pass_index(self) -> int:
        index = self.model.cursor.pass_index
        return index if 0 <= index < self.model.pass_count else self.model.pass_count - 1

    @contextmanager
    def _progress(self, total: int) -> Iterator[pass_export.Progress]:
        """A progress dialog with Cancel, shown once drawing the frames takes a while."""
        dialog = QProgressDialog("Drawing the frames…", "Cancel", 0, total, self._parent)
        dialog.setWindowTitle("Export")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(800)

        def progress(done: int, total: int) -> bool:
            dialog.setValue(done)
            return not dialog.wasCanceled()

        try:
            yield progress
        finally:
            dialog.close()
            dialog.deleteLater()

    # -- asking --------------------------------------------------------------------------
    def _default_path(self, kind: Kind) -> Path:
        folder = Path(str(self.settings.value("export/folder", "")) or _documents())
        stem = self._stem()
        if kind.key == "frames":
            return folder / f"{stem}-frames"
        if kind.key == "gif":
            return folder / f"{stem}-backward.gif"
        return folder / f"{stem}{kind.suffix}"

    def _about(self, plan: pass_export.FramePlan | None) -> str:
        if plan is None:
            return ""
        count = len(plan.steps)
        return plan.note or f"Backward pass {plan.pass_index + 1}: {count} frames."

    def _remember(self, request: ExportRequest) -> None:
        self.settings.setValue("export/folder", str(request.path.parent))
        self.settings.setValue("export/white", request.options.white)
        self.settings.setValue("export/visible_area", request.options.visible_area)
        self.settings.setValue("export/frame_ms", request.frame_ms)

    def _previous(self) -> ExportRequest:
        value = self.settings.value
        options = ImageOptions(
            visible_area=value("export/visible_area", False, type=bool),
            white=value("export/white", False, type=bool),
        )
        frame_ms = value("export/frame_ms", pass_export.FRAME_MS, type=int)
        return ExportRequest(Path(), options, frame_ms)

    def _ask_dialog(self, kind: Kind, path: Path, about: str) -> ExportRequest | None:
        if not kind.picture:
            chosen, _ = QFileDialog.getSaveFileName(
                self._parent, kind.menu_text.replace("&", "").rstrip("…"), str(path),
                kind.file_filter,
            )  # fmt: skip
            return ExportRequest(Path(chosen)) if chosen else None
        dialog = ExportDialog(self._parent, kind, path, about, self._previous())
        return dialog.request() if dialog.exec() else None

    def _warn_box(self, text: str) -> None:
        QMessageBox.warning(self._parent, "Cannot export", text)


@contextmanager
def _busy() -> Iterator[None]:
    """The wait cursor while a large graph is drawn."""
    QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        yield
    finally:
        QGuiApplication.restoreOverrideCursor()


def _with_suffix(path: Path, kind: Kind) -> Path:
    """The path with the kind's suffix added when it has another one (or none)."""
    if kind.key == "frames" or path.suffix.lower() in kind.suffixes:
        return path
    return path.with_name(path.name + kind.suffix)


def _documents() -> str:
    return QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)


def _reason(error: BaseException) -> str:
    """An OSError's own words (`Permission denied`), without Python's errno prefix."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    if isinstance(error, MemoryError):
        return "not enough memory for a picture this large"
    return str(error)
