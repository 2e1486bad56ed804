"""Trove's API in fake mode for the project's test harness (see
harness/trove/README.md): sqlite, in-process messaging, Trove's own fake
Keystone filter, one API worker.

It is ``trove-fake-mode`` plus one thing: unless ``HARNESS_DETACHED`` is
set, the whole process group ends when the process that started the
harness goes away, so no server outlives its test run.
"""

import os
import signal
import sys

import trove.cmd  # noqa: F401  (eventlet monkey patching comes first)

import eventlet  # noqa: E402
from trove.cmd import fakemode  # noqa: E402


def watch_parent(parent):
    while True:
        eventlet.sleep(1)
        if os.getppid() != parent:
            os.killpg(os.getpgrp(), signal.SIGKILL)


if __name__ == '__main__':
    if not os.environ.get('HARNESS_DETACHED'):
        eventlet.spawn(watch_parent, os.getppid())
    sys.exit(fakemode.main())
