"""Exports: the menu, the dialog, pictures, frames of a pass, the command line's pictures."""
