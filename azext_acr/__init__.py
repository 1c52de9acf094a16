"""acr: az acr-compatible registry tooling and a local Azure Container Registry emulator."""

__version__ = "0.1.0"
