"""The ``syncd`` command line (click): one group, small command modules, fixed exit codes."""
