"""`python -m nemo_lsp` runs the language server (what editors start)."""

import sys

from .server.main import main

sys.exit(main())
