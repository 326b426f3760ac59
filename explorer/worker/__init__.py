"""The worker process that runs scripts with torch, and the torch-free client that drives it."""
