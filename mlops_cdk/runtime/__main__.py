"""``python -m mlops_runtime [serve]`` runs the model server."""

import sys

from .server import main

sys.exit(main())
