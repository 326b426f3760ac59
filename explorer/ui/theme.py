"""Light and dark colour themes for the window and the graph; the system's choice by default."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette

from explorer.view.colours import DARK, LIGHT, THEMES, Theme, presenter

__all__ = ["DARK", "LIGHT", "THEMES", "Theme", "palette", "presenter", "resolve"]


def system_theme() -> Theme:
    """The theme matching the desktop's colour scheme."""
    app = QGuiApplication.instance()
    if isinstance(app, QGuiApplication):
        scheme = app.styleHints().colorScheme()
        if scheme == Qt.ColorScheme.Dark:
            return DARK
        if scheme == Qt.ColorScheme.Light:
            return LIGHT
        return DARK if _desktop_is_dark(app) else LIGHT
    return LIGHT


_DESKTOP_DARK: list[bool] = []  # read once, before a theme of ours replaces the palette


def _desktop_is_dark(app: QGuiApplication) -> bool:
    """Whether the desktop's own palette is dark, where it does not name a colour scheme.

    Read the first time only: once a theme is chosen the application's palette is ours, and
    reading it again would make "Follow System" follow the last theme chosen instead.
    """
    if not _DESKTOP_DARK:
        window = app.palette().color(QPalette.ColorRole.Window)
        _DESKTOP_DARK.append(window.lightness() < 128)
    return _DESKTOP_DARK[0]


def resolve(choice: str) -> Theme:
    """'light', 'dark' or 'system' to a Theme."""
    return THEMES.get(choice) or system_theme()


def palette(theme: Theme) -> QPalette:
    """A Qt palette for the widgets, matching the graph's theme."""
    pal = QPalette()
    role = QPalette.ColorRole
    colors = {
        role.Window: theme.background,
        role.Base: theme.panel,
        role.AlternateBase: theme.background,
        role.Text: theme.text,
        role.WindowText: theme.text,
        role.ButtonText: theme.text,
        role.Button: theme.panel,
        role.ToolTipBase: theme.panel,
        role.ToolTipText: theme.text,
        role.PlaceholderText: theme.muted,
        role.Highlight: theme.selection,
        role.HighlightedText: theme.on_selection,
        role.BrightText: theme.error,
        role.Link: theme.selection,
    }
    for key, value in colors.items():
        pal.setColor(key, QColor(value))
    pal.setColor(QPalette.ColorGroup.Disabled, role.Text, QColor(theme.muted))
    pal.setColor(QPalette.ColorGroup.Disabled, role.ButtonText, QColor(theme.muted))
    pal.setColor(QPalette.ColorGroup.Disabled, role.WindowText, QColor(theme.muted))
    return pal
