"""The Gradient Descent pane: controls and plots."""
