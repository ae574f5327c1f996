"""`python -m emolens`: the same as the `emolens` command."""

import sys

from emolens.cli import main

sys.exit(main())
