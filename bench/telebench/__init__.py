"""Telegraphy's benchmark suite: the gateway measured side by side with Crossbar."""
