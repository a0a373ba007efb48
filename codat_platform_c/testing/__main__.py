"""python -m codat_platform_c.testing: run the stand-in server (see cli.py)."""
import sys

from .cli import main

sys.exit(main())
