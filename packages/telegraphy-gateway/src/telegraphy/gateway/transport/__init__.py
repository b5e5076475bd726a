"""Where WAMP messages enter and leave the gateway: WebSocket, and the HTTP site around it."""
