"""Identities, scopes and tokens: who may do what, and the JWTs that say so."""
