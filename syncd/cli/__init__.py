"""The ``syncd`` command line (click): one group, small command modules, fixed exit codes.

Commands import what they run inside the command function, on purpose and not to dodge a cycle:
every invocation loads the whole group, and ``syncd --help`` or ``syncd status`` should not pay for
the daemon, the Stripe SDK, the simulators or the audit (importing them all doubles start-up).
"""
