"""secretops: find leaked credentials, and rotate them without downtime."""

__all__ = ["__version__"]

__version__ = "0.1.0"
