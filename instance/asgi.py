"""The ASGI entry point for Hypercorn worker processes: settings come from the environment."""

from instance.app import create_app
from instance.serve import configure_logging
from instance.server_limits import install_accept_backoff

# Spawned workers start with bare logging: without this their lines would be dropped.
configure_logging()
# Hypercorn makes the worker's event loop after importing this module (docs/overload.md).
install_accept_backoff()
app = create_app()
