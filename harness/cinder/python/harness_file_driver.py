"""A Cinder volume driver that keeps every volume and snapshot as a sparse
file, for the project's test harness.

Cinder's own drivers need iSCSI, LVM or a storage array; this one needs a
folder. Its connections are of os-brick's ``local`` type (a path), so the
upstream backup manager reads and writes volume data through them.

Snapshots are manageable: every ``snapshot-*`` file in the folder is a
backend snapshot, with a ``.json`` side file naming its volume and that
volume's size. ``os-unmanage`` leaves the file, so it is listed as safe to
manage, and managing it renames it after the new Cinder snapshot.
"""

import json
import os
import shutil

from oslo_config import cfg
from oslo_log import log as logging

from cinder.common import constants
from cinder import exception
from cinder.volume import configuration
from cinder.volume import driver
from cinder.volume import volume_utils

LOG = logging.getLogger(__name__)

file_opts = [
    cfg.StrOpt('file_volume_dir', default='/tmp/cinder-file-volumes',
               help='Folder that holds the volume and snapshot files.'),
    cfg.IntOpt('file_volume_bytes', default=4 * 1024 * 1024,
               help='Length of every volume file, whatever the volume\'s '
                    'nominal size: the backup driver reads a volume to the '
                    'end of its file, so backups of "1 GiB" volumes stay '
                    'small and fast.'),
]
cfg.CONF.register_opts(file_opts, group=configuration.SHARED_CONF_GROUP)

class FileVolumeDriver(driver.VolumeDriver):
    """Volumes and snapshots as sparse files in one folder."""

    VERSION = '1.0.0'
    CI_WIKI_NAME = 'none'

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.configuration.append_config_values(file_opts)
        self._dir = self.configuration.safe_get('file_volume_dir')
        self._bytes = self.configuration.safe_get('file_volume_bytes')

    # -- set-up
    def do_setup(self, context):
        os.makedirs(self._dir, exist_ok=True)

    def check_for_setup_error(self):
        if not os.path.isdir(self._dir):
            raise RuntimeError('file_volume_dir %s is missing' % self._dir)

    # -- paths
    def _volume_path(self, volume):
        return os.path.join(self._dir, 'volume-%s' % volume.id)

    def _snapshot_path(self, snapshot):
        return os.path.join(self._dir, 'snapshot-%s' % snapshot.id)

    def local_path(self, volume):
        return self._volume_path(volume)

    def _allocate(self, path, size_gb):
        # Never shrinks: a restore may have written past the nominal length.
        with open(path, 'ab') as f:
            if f.tell() < self._bytes:
                f.truncate(self._bytes)

    # -- volumes
    def create_volume(self, volume):
        self._allocate(self._volume_path(volume), volume.size)
        return {}

    def delete_volume(self, volume):
        try:
            os.remove(self._volume_path(volume))
        except FileNotFoundError:
            pass

    def create_cloned_volume(self, volume, src_vref):
        shutil.copyfile(self._volume_path(src_vref), self._volume_path(volume))
        self._allocate(self._volume_path(volume), volume.size)
        return {}

    def create_volume_from_snapshot(self, volume, snapshot):
        shutil.copyfile(self._snapshot_path(snapshot), self._volume_path(volume))
        self._allocate(self._volume_path(volume), volume.size)
        return {}

    def extend_volume(self, volume, new_size):
        self._allocate(self._volume_path(volume), new_size)

    # -- snapshots
    def create_snapshot(self, snapshot):
        path = self._snapshot_path(snapshot)
        shutil.copyfile(self._volume_path(snapshot.volume), path)
        with open(path + '.json', 'w') as f:
            json.dump({'volume_id': snapshot.volume_id, 'volume_size': snapshot.volume_size}, f)
        return {}

    def delete_snapshot(self, snapshot):
        for path in (self._snapshot_path(snapshot), self._snapshot_path(snapshot) + '.json'):
            try:
                os.remove(path)
            except FileNotFoundError:
                pass

    # -- manageable snapshots
    def _side(self, name):
        try:
            with open(os.path.join(self._dir, name + '.json')) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def get_manageable_snapshots(self, cinder_snapshots, marker, limit, offset,
                                 sort_keys, sort_dirs):
        managed = {'snapshot-%s' % s.id: s.id for s in cinder_snapshots}
        entries = []
        for name in sorted(os.listdir(self._dir)):
            if not name.startswith('snapshot-') or name.endswith('.json'):
                continue
            side = self._side(name)
            cinder_id = managed.get(name)
            entries.append({
                'reference': {'source-name': name},
                'size': side.get('volume_size', 1),
                'safe_to_manage': cinder_id is None,
                'reason_not_safe': 'already managed' if cinder_id else None,
                'cinder_id': cinder_id,
                'extra_info': None,
                'source_reference': {'source-name': 'volume-%s' % side.get('volume_id', '')},
            })
        return volume_utils.paginate_entries_list(entries, marker, limit, offset,
                                                  sort_keys, sort_dirs)

    def _existing(self, existing_ref):
        name = existing_ref.get('source-name') if isinstance(existing_ref, dict) else None
        if not name or '/' in name or not os.path.isfile(os.path.join(self._dir, name)):
            raise exception.ManageExistingInvalidReference(
                existing_ref=existing_ref, reason='no snapshot file of that name')
        return name

    def manage_existing_snapshot_get_size(self, snapshot, existing_ref):
        return self._side(self._existing(existing_ref)).get('volume_size', 1)

    def manage_existing_snapshot(self, snapshot, existing_ref):
        name = self._existing(existing_ref)
        source = os.path.join(self._dir, name)
        os.rename(source, self._snapshot_path(snapshot))
        side = self._side(name)
        side['volume_id'] = snapshot.volume_id
        with open(self._snapshot_path(snapshot) + '.json', 'w') as f:
            json.dump(side, f)
        try:
            os.remove(source + '.json')
        except FileNotFoundError:
            pass
        return None

    def revert_to_snapshot(self, context, volume, snapshot):
        shutil.copyfile(self._snapshot_path(snapshot), self._volume_path(volume))
        self._allocate(self._volume_path(volume), volume.size)

    def unmanage_snapshot(self, snapshot):
        pass

    # -- exports and connections: a path is all os-brick's local connector needs
    def ensure_export(self, context, volume):
        pass

    def create_export(self, context, volume, connector):
        pass

    def remove_export(self, context, volume):
        pass

    def create_export_snapshot(self, context, snapshot, connector):
        pass

    def remove_export_snapshot(self, context, snapshot):
        pass

    def initialize_connection(self, volume, connector, **kwargs):
        return {'driver_volume_type': 'local',
                'data': {'device_path': self._volume_path(volume)}}

    def terminate_connection(self, volume, connector, **kwargs):
        pass

    def initialize_connection_snapshot(self, snapshot, connector, **kwargs):
        return {'driver_volume_type': 'local',
                'data': {'device_path': self._snapshot_path(snapshot)}}

    def terminate_connection_snapshot(self, snapshot, connector, **kwargs):
        pass

    # -- capacity
    def _update_volume_stats(self):
        name = self.configuration.safe_get('volume_backend_name') or 'file'
        self._stats = {
            'volume_backend_name': name,
            'vendor_name': 'openstack-backups test harness',
            'driver_version': self.VERSION,
            'storage_protocol': constants.FILE,
            'pools': [{
                'pool_name': name,
                'total_capacity_gb': 'infinite',
                'free_capacity_gb': 'infinite',
                'reserved_percentage': 0,
                'QoS_support': False,
                'thin_provisioning_support': True,
                'multiattach': False,
            }],
        }

    def get_volume_stats(self, refresh=False):
        if refresh or not self._stats:
            self._update_volume_stats()
        return self._stats
