"""Routing: the realm, its broker (publish/subscribe) and dealer (calls), URIs and IDs."""
