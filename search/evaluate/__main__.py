"""`python -m search.evaluate`: see search/evaluate/cli.py."""

import sys

from search.evaluate.cli import main

sys.exit(main())
