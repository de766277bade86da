"""`python -m instance` runs the `gapo` command."""

import sys

from instance.cli import main

sys.exit(main())
