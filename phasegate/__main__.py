import sys

from phasegate.cli import main

sys.exit(main())
