"""The panes around the graph: script editor, output, inspector, leaves, stepper."""
