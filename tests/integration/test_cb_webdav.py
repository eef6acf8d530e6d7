# SPDX-License-Identifier: GPL-3.0-or-later
"""RegisterWebDavCollection (docs/callbacks/webdav.md): a Python folder tree
served through Orthanc's WebDAV server (PROPFIND, GET, PUT, MKCOL, DELETE);
an exception or a bad return value fails the request with one logged
traceback and the server keeps serving."""

import xml.etree.ElementTree as ET

import pytest

DAV = '{DAV:}'


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    return orthanc_factory(orthanc_factory.script('cb_webdav.py'), config={'WebDavEnabled': True})


def propfind(srv, path):
    status, _, body = srv.request('PROPFIND', path, headers={'Depth': '1'})
    assert status == 207, body
    entries = {}
    for response in ET.fromstring(body).iter(DAV + 'response'):
        href = response.find(DAV + 'href').text
        prop = response.find('.//' + DAV + 'prop')
        entries[href] = {
            'folder': prop.find(DAV + 'resourcetype/' + DAV + 'collection') is not None,
            'size': prop.findtext(DAV + 'getcontentlength'),
            'type': prop.findtext(DAV + 'getcontenttype'),
            'modified': prop.findtext(DAV + 'getlastmodified'),
        }
    return entries


def test_propfind_lists_folders_and_files(srv):
    root = propfind(srv, '/pydav/')
    assert root['/pydav/docs']['folder'] and root['/pydav/readonly']['folder']
    docs = propfind(srv, '/pydav/docs/')
    assert docs['/pydav/docs/readme.txt'] == {'folder': False, 'size': '13', 'type': 'text/plain',
                                             'modified': '2023-04-05T06:07:08Z'}
    # mime type guessed by Orthanc; aware datetime converted to UTC
    assert docs['/pydav/docs/data.json'] == {'folder': False, 'size': '8',
                                            'type': 'application/json',
                                            'modified': '2024-01-02T01:04:05Z'}


def test_get_file(srv):
    status, headers, body = srv.get('/pydav/docs/readme.txt')
    assert (status, body) == (200, b'hello webdav\n')
    assert headers['content-type'] == 'text/plain'
    assert srv.get('/pydav/docs/missing.txt')[0] == 404


def test_put_mkcol_delete(srv):
    assert srv.request('MKCOL', '/pydav/newdir')[0] == 201
    assert '/pydav/newdir' in propfind(srv, '/pydav/')
    payload = bytes(range(256)) * 1000
    assert srv.put('/pydav/newdir/blob.bin', payload)[0] == 201
    assert srv.get('/pydav/newdir/blob.bin')[2] == payload
    assert propfind(srv, '/pydav/newdir/')['/pydav/newdir/blob.bin']['size'] == str(len(payload))
    assert srv.put('/pydav/newdir/empty.txt', b'')[0] == 201
    assert srv.get('/pydav/newdir/empty.txt')[:3:2] == (200, b'')
    assert srv.delete('/pydav/newdir/blob.bin')[0] == 204
    assert srv.get('/pydav/newdir/blob.bin')[0] == 404


def test_refused_operations_answer_403(srv):
    mark = srv.log_mark()
    assert srv.put('/pydav/readonly/x.txt', b'x')[0] == 403
    assert srv.request('MKCOL', '/pydav/readonly/sub')[0] == 403
    assert srv.delete('/pydav/readonly')[0] == 403
    # a collection without store_file/create_folder/delete_item is read-only
    assert srv.put('/pydav-ro/x.txt', b'x')[0] == 403
    assert srv.request('MKCOL', '/pydav-ro/sub')[0] == 403
    assert srv.delete('/pydav-ro/only.txt')[0] == 403
    assert srv.get('/pydav-ro/only.txt')[2] == b'abc'
    assert propfind(srv, '/pydav-ro/')['/pydav-ro/only.txt']['modified'] == '2020-01-02T03:04:05Z'
    assert srv.count_log(r'OPY0010', since=mark) == 0


@pytest.mark.parametrize('method,path,where,message,traceback', [
    ('GET', '/pydav/raise.txt', r'retrieve_file\(/raise\.txt\)', r"KeyError: 'raise\.txt'", 1),
    ('PROPFIND', '/pydav/broken/', r'list_folder\(/broken\)',
     r'OSError: the broken folder cannot be listed', 1),
    ('GET', '/pydav/bad.txt', r'retrieve_file\(/bad\.txt\)',
     r'TypeError: retrieve_file\(\) must return None or a tuple \(data, mime_type, date\), not bytes', 0),
    ('PUT', '/pydav/bad-return.txt', r'store_file\(/bad-return\.txt\)',
     r"TypeError: store_file\(\) must return True or False, not 'yes'", 0),
    ('PROPFIND', '/pydav/odd/', r'is_existing_folder\(/odd\)',
     r'TypeError: is_existing_folder\(\) must return True or False, not 1', 0),
])
def test_failures_logged_once(srv, method, path, where, message, traceback):
    mark = srv.log_mark()
    headers = {'Depth': '1'} if method == 'PROPFIND' else {}
    status, _, _ = srv.request(method, path, body=b'x' if method == 'PUT' else None, headers=headers)
    assert status == 500
    srv.wait_log(r'OPY0010 Exception in WebDAV collection /pydav ' + where, since=mark)
    srv.wait_log(message, since=mark)
    assert srv.count_log(r'OPY0010', since=mark) == 1
    # bad return values are TypeErrors raised by the plugin: no Python frame
    assert srv.count_log(r'Traceback \(most recent call last\)', since=mark) == traceback
    assert srv.get('/pydav/docs/readme.txt')[0] == 200


def test_bad_entries_and_registration_errors(orthanc_factory):
    srv = orthanc_factory(
        'import orthanc\n'
        'class Bad:\n'
        '    def is_existing_folder(self, path): return True\n'
        '    def list_folder(self, path):\n'
        '        return {"a": [{"name": "x"}], "b": [{"name": "x", "sise": 1}],\n'
        '                "c": [{"name": "x", "size": 1, "date": "yesterday"}], "d": 5}[path[0]]\n'
        '    def retrieve_file(self, path): return None\n'
        'orthanc.RegisterWebDavCollection("/bad", Bad())\n'
        'for args in (("/x", object()), ("/y", 3)):\n'
        '    try:\n'
        '        orthanc.RegisterWebDavCollection(*args)\n'
        '    except TypeError as e:\n'
        '        print("refused: %s" % e)\n')
    srv.wait_out(r'refused: orthanc\.RegisterWebDavCollection\(\): the collection \(object\) has no '
                 r'is_existing_folder\(\) method')
    for folder, message in (('a', r"ValueError: list_folder\(\): file entry 'x' needs a 'size'"),
                            ('b', r"ValueError: list_folder\(\) entry has an unknown key 'sise'"),
                            ('c', r"ValueError: list_folder\(\) entry 'date': a date string must be"),
                            ('d', r'TypeError: list_folder\(\) must return None or an iterable')):
        mark = srv.log_mark()
        status, _, _ = srv.request('PROPFIND', '/bad/%s/' % folder, headers={'Depth': '1'})
        assert status == 500
        srv.wait_log(message, since=mark)
        assert srv.count_log(r'OPY0010', since=mark) == 1
    assert srv.stop() == 0
