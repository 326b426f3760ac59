"""Torch-side runs: a script's session, model files, re-runs, descent, gradient checks."""
