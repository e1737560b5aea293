"""`python -m tiltguard ...` is the `tiltguard` command."""
import sys

from tiltguard.host.cli import main

sys.exit(main())
