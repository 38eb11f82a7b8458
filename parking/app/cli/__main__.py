"""`python -m parking.app.cli`: the same as the `parking-guide` console script."""

import sys

from parking.app.cli import main

sys.exit(main())
