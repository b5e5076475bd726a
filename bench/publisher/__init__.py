"""The publisher's benchmark: events/s delivered to a real gateway, and send()'s cost."""
