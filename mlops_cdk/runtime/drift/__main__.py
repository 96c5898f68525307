"""``python -m mlops_runtime.drift`` (or ``python -m mlops_cdk.runtime.drift``)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
