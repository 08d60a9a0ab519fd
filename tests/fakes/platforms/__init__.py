"""Stateful fakes of platform APIs (Render, DigitalOcean, Vercel, Heroku, GitHub) for httpx.MockTransport."""
