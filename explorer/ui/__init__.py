"""The Qt side: window, editor, graph view, inspector, stepper. Imports no torch."""
