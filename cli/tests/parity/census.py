"""Prints, as JSON, every option of the python-openstackclient (and
python-troveclient) commands named on stdin, one per line, read from the
installed clients' own argparse parsers: {command: [{"flags": [...],
"choices": [...] or null, "positional": bool}]}."""

import json
import sys

from cliff.commandmanager import CommandManager
from openstackclient import shell

app = shell.OpenStackShell()
manager = CommandManager('openstack.cli')
for group in ('openstack.common', 'openstack.volume.v3', 'openstack.database.v1'):
    manager.add_command_group(group)

out = {}
for line in sys.stdin:
    name = line.strip()
    if not name:
        continue
    factory, _, _ = manager.find_command(name.split())
    command = factory(app, None)
    parser = command.get_parser('openstack ' + name)
    options = []
    for action in parser._actions:
        if '-h' in action.option_strings:
            continue
        options.append({
            'flags': list(action.option_strings),
            'dest': action.dest,
            'choices': sorted(str(c) for c in action.choices) if action.choices else None,
            'positional': not action.option_strings,
            'required': bool(action.required) if action.option_strings else action.nargs not in ('?', '*'),
        })
    out[name] = options
json.dump(out, sys.stdout, indent=1, sort_keys=True)
