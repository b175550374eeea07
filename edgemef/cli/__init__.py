"""The ``edgemef`` command line: one module per sub-command, wired together in :mod:`edgemef.cli.main`."""
