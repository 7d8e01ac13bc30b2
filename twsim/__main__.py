"""`python -m twsim` runs the twsim command."""

import sys

from twsim.cli import main

sys.exit(main())
