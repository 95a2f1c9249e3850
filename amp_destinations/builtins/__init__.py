"""The host's own plugins, written against the same hooks as any other plugin."""
