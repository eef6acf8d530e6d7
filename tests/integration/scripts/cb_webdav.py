# SPDX-License-Identifier: GPL-3.0-or-later
# RegisterWebDavCollection: an in-memory folder tree served over WebDAV,
# with a few names that make the collection fail on purpose.
import datetime

import orthanc

T0 = datetime.datetime(2023, 4, 5, 6, 7, 8)                     # naive: UTC
T1 = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))

# a folder is a dict, a file a tuple (data, mime type or None, date)
tree = {
    'docs': {'readme.txt': (b'hello webdav\n', 'text/plain', T0),
             'data.json': (b'{"a": 1}', None, T1)},
    'readonly': {},
    'broken': {},
    'raise.txt': (b'', None, T0),
    'bad.txt': (b'', None, T0),
}


def lookup(path):
    node = tree
    for item in path:
        if not isinstance(node, dict) or item not in node:
            return None
        node = node[item]
    return node


class MemoryCollection:
    def is_existing_folder(self, path):
        if path == ['odd']:
            return 1                        # not a bool: refused
        return isinstance(lookup(path), dict)

    def list_folder(self, path):
        if path == ['broken']:
            raise OSError('the broken folder cannot be listed')
        node = lookup(path)
        if not isinstance(node, dict):
            return None
        entries = []
        for name, child in sorted(node.items()):
            if isinstance(child, dict):
                entries.append({'name': name, 'is_folder': True, 'date': T0})
            else:
                entries.append({'name': name, 'size': len(child[0]), 'mime_type': child[1],
                                'date': child[2]})
        return entries

    def retrieve_file(self, path):
        if path == ['raise.txt']:
            raise KeyError('raise.txt')
        if path == ['bad.txt']:
            return b'just the bytes'        # not a tuple: refused
        node = lookup(path)
        if not isinstance(node, tuple):
            return None
        return node

    def store_file(self, path, data):
        if path[-1] == 'bad-return.txt':
            return 'yes'
        parent = lookup(path[:-1])
        if path[:1] == ['readonly'] or not isinstance(parent, dict):
            return False
        parent[path[-1]] = (data, None, datetime.datetime.now(datetime.timezone.utc))
        return True

    def create_folder(self, path):
        parent = lookup(path[:-1])
        if path[:1] == ['readonly'] or not isinstance(parent, dict):
            return False
        parent.setdefault(path[-1], {})
        return True

    def delete_item(self, path):
        parent = lookup(path[:-1])
        if path[:1] == ['readonly'] or not isinstance(parent, dict) or path[-1] not in parent:
            return False
        del parent[path[-1]]
        return True


class ReadOnlyCollection:
    def is_existing_folder(self, path):
        return path == []

    def list_folder(self, path):
        return [{'name': 'only.txt', 'size': 3, 'date': '20200102T030405'}] if path == [] else None

    def retrieve_file(self, path):
        return (b'abc', 'text/plain', None) if path == ['only.txt'] else None


orthanc.RegisterWebDavCollection('/pydav', MemoryCollection())
orthanc.RegisterWebDavCollection(uri='/pydav-ro', collection=ReadOnlyCollection())
