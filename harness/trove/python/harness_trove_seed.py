"""Writes backup records straight into the harness Trove's database.

Trove creates a backup only for an ACTIVE instance, which needs a compute
server and a guest agent; fake mode has neither in working order. The
harness writes the records a finished (or running) backup would have left,
so that list, show, paging, filters and errors run against the real API
code. Reads a JSON list of backups on standard input.

Usage: harness_trove_seed.py <sqlite file>
"""

import json
import sqlite3
import sys

COLUMNS = ('id', 'name', 'description', 'location', 'backup_type', 'size',
           'tenant_id', 'state', 'instance_id', 'checksum', 'created',
           'updated', 'deleted', 'parent_id', 'datastore_version_id')


def main(path):
    rows = json.load(sys.stdin)
    db = sqlite3.connect(path, timeout=30)
    version = db.execute(
        'SELECT v.id FROM datastore_versions v JOIN datastores d '
        'ON v.datastore_id = d.id WHERE d.name = ?', ('mysql',)).fetchone()
    if version is None:
        sys.exit('no mysql datastore version: was datastore_update run?')
    with db:
        for r in rows:
            db.execute(
                'INSERT INTO backups (%s) VALUES (%s)' % (
                    ', '.join(COLUMNS), ', '.join('?' * len(COLUMNS))),
                (r['id'], r['name'], r.get('description'),
                 r.get('location'), 'InnoBackupEx', r.get('size'),
                 r['project_id'], r['status'], r.get('instance_id'),
                 r.get('checksum'), r['created'], r['updated'], 0,
                 r.get('parent_id'), version[0]))
    db.close()


if __name__ == '__main__':
    main(sys.argv[1])
