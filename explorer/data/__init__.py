"""Plain data that crosses the pipe: the Snapshot, reports, export formats. No torch, no Qt."""
