"""``python -m harness.runtime [RUNTIME ...]``: build the per-user runtime environments ahead of time."""

import sys

from harness.runtime.provision import main

sys.exit(main())
