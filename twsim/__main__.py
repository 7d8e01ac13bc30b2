"""`python -m twsim` runs the twsim command."""

import sys

from twsim.cli.main import main

sys.exit(main())
