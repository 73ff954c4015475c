"""The media engine: probe, pure plan builders, the one process runner, Pillow stills."""
