"""`secretops serve`: scheduled due rotation, GitHub and findings webhooks, `/healthz`, `/metrics`.

`app.build_app(Service(config, ops))` is the ASGI app; `interface.Operations` is what it asks of
secretops (`operations.EngineOperations` over the engine and the incident flow); `scheduler`,
`webhooks`, `metrics` and `config` are its parts. Imports starlette and prometheus-client: the
`serve` extra. docs/service.md.
"""

__all__ = ["app", "config", "interface", "metrics", "operations", "scheduler", "webhooks"]
