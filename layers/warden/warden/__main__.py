"""`python -m warden`: the same CLI as the `warden` console script."""

import sys

from warden.cli import main

sys.exit(main())
