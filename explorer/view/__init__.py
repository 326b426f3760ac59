"""Qt-free view logic: replay, grouping of module calls, geometry, labels, derivatives."""
