"""Keystone's public WSGI application for gunicorn, for the project's test
harness (see harness/keystone/README.md).

Keystone reads its configuration through oslo.config, which parses
``sys.argv``; under gunicorn that is gunicorn's command line, and the
worker exits with code 2 in a loop. The arguments are cleared first; the
configuration folder comes from ``OS_KEYSTONE_CONFIG_DIR``.

Loaded in gunicorn's master (``--preload``), it also ends the whole process
group when the process that started the harness goes away.
"""

import os
import signal
import sys
import threading
import time

sys.argv = sys.argv[:1]

from keystone.server.wsgi import initialize_public_application  # noqa: E402

application = initialize_public_application()


def _watch_parent(parent):
    while True:
        time.sleep(1)
        if os.getppid() != parent:
            os.killpg(os.getpgrp(), signal.SIGKILL)


if not os.environ.get('HARNESS_DETACHED'):
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
