import sys

from srtod.cli import main

sys.exit(main())
