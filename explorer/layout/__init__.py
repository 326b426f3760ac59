"""Node positions for drawing: numpy only, no torch and no Qt."""
