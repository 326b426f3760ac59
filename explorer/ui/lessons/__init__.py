"""Lessons in the window: files, state, the Lesson pane, notes, bookmark captions."""
