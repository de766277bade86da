"""The ASGI entry point for Hypercorn worker processes: settings come from the environment."""

from instance.app import create_app

app = create_app()
