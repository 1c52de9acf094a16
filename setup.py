"""Packaging for acr (the CLI) and acr-emulator (the local Azure Container Registry)."""

from setuptools import find_packages, setup

setup(
    name="acr-cli",
    version="0.1.0",
    description="A fast az-acr-compatible CLI with ORAS push/pull and a local ACR emulator",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.11",
    packages=find_packages(include=["azext_acr", "azext_acr.*"]),
    install_requires=[
        "knack>=0.11",
        "requests>=2.31",
        "msal>=1.28",
        "PyJWT[crypto]>=2.8",
        "cryptography>=41",
        "tabulate>=0.9",
        "filelock>=3.12",
        "aiohttp>=3.9",
    ],
    extras_require={
        "test": [
            "pytest>=8",
            "hypothesis>=6",
            "oras>=0.2.30",
            "azure-containerregistry>=1.2",
            "azure-identity>=1.15",
            "ruff>=0.5",
        ],
    },
    entry_points={
        "console_scripts": [
            "acr=azext_acr.cli.main:run",
            "acr-emulator=azext_acr.emulator.__main__:main",
            "docker-credential-acr=azext_acr.dockerconfig.acr_helper:main",
        ],
    },
)
