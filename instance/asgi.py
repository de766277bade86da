"""The ASGI entry point for Hypercorn worker processes: settings come from the environment."""

from instance.app import create_app
from instance.serve import configure_logging

# Spawned workers start with bare logging: without this their lines would be dropped.
configure_logging()
app = create_app()
