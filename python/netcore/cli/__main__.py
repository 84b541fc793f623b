"""``python -m netcore.cli``: the same as the ``netcore`` command."""

import sys

from netcore.cli import main

sys.exit(main())
