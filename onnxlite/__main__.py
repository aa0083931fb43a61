import sys

from onnxlite.cli import main

sys.exit(main())
