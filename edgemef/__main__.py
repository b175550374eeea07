"""``python -m edgemef`` is the ``edgemef`` command."""

from edgemef.cli.main import main

raise SystemExit(main())
