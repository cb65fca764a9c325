"""`python -m harness`: the same entry as the `msk-harness` console script."""

import sys

from harness.console import main

sys.exit(main())
