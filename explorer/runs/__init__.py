"""Torch-side runs: a script session, model files, re-runs, float64, descent, loss surface, numerical check."""
