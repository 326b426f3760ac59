"""The graph view: camera, batched items, minimap, legend."""
