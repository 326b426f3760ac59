"""The script as a document: file open/save, recent files, the window title, and autosave."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QStandardPaths, QTimer, Signal

from explorer.data.text_files import MAX_TEXT_BYTES, read_text

MAX_RECENT = 8
MAX_FILE_BYTES = MAX_TEXT_BYTES
AUTOSAVE_MS = 4000


def app_data_dir() -> Path:
    path = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation))
    path.mkdir(parents=True, exist_ok=True)
    return path


def autosave_path() -> Path:
    return app_data_dir() / "autosave.py"


class Document(QObject):
    """Which file the editor holds, whether it changed, and where it is autosaved."""

    changed = Signal()  # the path or the modified flag changed
    recent_changed = Signal()  # the recent files list changed

    def __init__(self, settings: QSettings, text_source, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.text_source = text_source  # callable returning the editor's text
        self.path: Path | None = None
        self.modified = False
        self._autosaved_text: str | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(AUTOSAVE_MS)
        self._timer.timeout.connect(self.autosave)
        self._timer.start()

    # -- title and state -----------------------------------------------------------------
    def title(self) -> str:
        name = self.path.name if self.path else "untitled.py"
        return f"{name}[*] — Autograd Explorer"

    def set_modified(self, modified: bool) -> None:
        if modified != self.modified:
            self.modified = modified
            self.changed.emit()

    # -- files ---------------------------------------------------------------------------
    def read(self, path: Path) -> str:
        return read_text_file(path)

    def opened(self, path: Path) -> None:
        self.path = path
        self.modified = False
        self.add_recent(path)
        self.changed.emit()

    def save(self, path: Path, text: str) -> None:
        path.write_text(text, encoding="utf-8")
        self.opened(path)

    def new(self) -> None:
        self.path = None
        self.modified = False
        self.changed.emit()

    # -- recent files --------------------------------------------------------------------
    def recent(self) -> list[str]:
        value = self.settings.value("files/recent", [])
        if isinstance(value, str):
            value = [value]
        return [v for v in (value or []) if isinstance(v, str)]

    def add_recent(self, path: Path) -> None:
        entries = [str(path.resolve())] + [p for p in self.recent() if p != str(path.resolve())]
        self.settings.setValue("files/recent", entries[:MAX_RECENT])
        self.recent_changed.emit()

    # -- autosave ------------------------------------------------------------------------
    def autosave(self) -> None:
        text = self.text_source()
        if text == self._autosaved_text:
            return
        try:
            autosave_path().write_text(text, encoding="utf-8")
            self._autosaved_text = text
        except OSError:
            pass  # autosave is a convenience; a full disk must not interrupt the lesson

    def start_session(self) -> str | None:
        """Mark this session as running; return autosaved text if the last one crashed."""
        crashed = self.settings.value("session/running", False, type=bool)
        self.settings.setValue("session/running", True)
        self.settings.sync()
        path = autosave_path()
        if crashed and path.exists():
            try:
                return read_text(path)
            except (OSError, ValueError):
                return None
        return None

    def end_session(self) -> None:
        self.autosave()
        self.settings.setValue("session/running", False)
        self.settings.sync()


def read_text_file(path: Path) -> str:
    """The text of a script or model file; OSError or ValueError with a plain message if it
    cannot be read (a FIFO, a device or a file over the size cap is never read)."""
    return read_text(path, MAX_FILE_BYTES)
