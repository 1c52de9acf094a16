"""Persistence: a content-addressed blob store and a SQLite metadata store, each with an in-memory variant."""
