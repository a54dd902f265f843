import sys

from ocop.cli.main import main

sys.exit(main())
