"""The window: assembly, menus, file commands, presenter mode, about."""
