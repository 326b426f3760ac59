"""Exports: the menu, the dialog, pictures, the backward pass as frames, the command line's pictures."""
