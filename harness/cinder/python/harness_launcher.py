"""Runs the Cinder API, scheduler, volume and backup services in one Python
process, for the project's test harness (see harness/cinder/README.md).

Usage: python harness_launcher.py --config-file cinder.conf

One process is what makes this work without a broker or a database server:
oslo.messaging's ``fake:/`` transport only works inside one process, and
sqlite only tolerates one writer process.
"""

from cinder import monkey_patch; monkey_patch.patch()  # noqa: E702

import os  # noqa: E402
import shlex  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402

import eventlet  # noqa: E402
import os_brick  # noqa: E402
from oslo_config import cfg  # noqa: E402
from oslo_log import log as logging  # noqa: E402
from oslo_privsep import priv_context  # noqa: E402
from oslo_service import service as oslo_service  # noqa: E402

from cinder.cmd import backup as backup_cmd  # noqa: E402,F401 (registers the backup_* options)
from cinder.common import config  # noqa: E402
from cinder.common import constants  # noqa: E402
from cinder import i18n  # noqa: E402
i18n.enable_lazy()
from cinder import objects  # noqa: E402
from cinder import rpc  # noqa: E402
from cinder import service  # noqa: E402
from cinder import utils  # noqa: E402
from cinder import version  # noqa: E402

CONF = cfg.CONF
LOG = logging.getLogger('harness')


class OwnIdService(service.Service):
    """``Service.service_id`` is a class attribute shared by every service of
    a process, and each heartbeat uses it: with several services in one
    process only the last one created would stay "up". Each service sets its
    own id before its heartbeat."""

    def report_state(self):
        service.Service.service_id = self.origin_service_id
        super().report_state()


def watch_parent(parent):
    """Ends the whole process group (privsep helpers included) when the
    process that started us is gone, so no server outlives its test run."""
    while True:
        eventlet.sleep(1)
        if os.getppid() != parent:
            LOG.warning('parent %s is gone; stopping', parent)
            os.killpg(os.getpgrp(), signal.SIGKILL)


def main():
    parent = os.getppid()
    objects.register_all()
    CONF(sys.argv[1:], project='cinder', version=version.version_string())
    config.set_middleware_defaults()
    logging.setup(CONF, 'cinder')
    priv_context.init(root_helper=shlex.split(utils.get_root_helper()))
    os_brick.setup(CONF)
    rpc.init(CONF)
    if not os.environ.get('HARNESS_DETACHED'):
        eventlet.spawn(watch_parent, parent)

    semaphore = utils.semaphore_factory(CONF.backup_max_operations, CONF.backup_workers)
    launcher = oslo_service.ServiceLauncher(CONF, restart_method='mutate')
    launcher.launch_service(OwnIdService.create(binary=constants.SCHEDULER_BINARY))
    for backend in filter(None, CONF.enabled_backends):
        launcher.launch_service(OwnIdService.create(
            host='%s@%s' % (CONF.host, backend), service_name=backend,
            binary=constants.VOLUME_BINARY, coordination=True))
    launcher.launch_service(OwnIdService.create(
        binary=constants.BACKUP_BINARY, coordination=True, service_name='backup',
        process_number=1, semaphore=semaphore))
    launcher.launch_service(service.WSGIService('osapi_volume'))
    LOG.info('all services launched')
    launcher.wait()


if __name__ == '__main__':
    main()
