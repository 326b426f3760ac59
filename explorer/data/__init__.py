"""Plain data that crosses the pipe: the Snapshot, reports, and the export formats. No torch, no Qt."""
