"""Targets: where copies of a secret are held (a `.env` file, Render, DigitalOcean, ...)."""
