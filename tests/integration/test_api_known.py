# SPDX-License-Identifier: GPL-3.0-or-later
"""Known answers of the generated SDK wrappers (scripts/api_known.py): every
value is computed inside the server and checked here against what Python,
pydicom and PIL compute on their own."""

import base64
import hashlib
import http.server
import io
import json
import re
import threading
import uuid
import zlib
import gzip

import PIL.Image
import pydicom
import pytest

import dicomgen
import harness


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def _answer(self):
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else b''
        self.server.seen.append({'method': self.command, 'path': self.path,
                                 'headers': {k.lower(): v for k, v in self.headers.items()},
                                 'body': body})
        if self.path == '/missing':
            payload, status = b'nothing here', 404
        else:
            payload = json.dumps({'method': self.command, 'path': self.path,
                                  'body': body.decode('latin-1')}).encode()
            status = 200
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('X-Served-By', 'opy-test')
        self.send_header('Content-Length', str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args):
        pass


@pytest.fixture(scope='module')
def web():
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = 'http://127.0.0.1:%d' % server.server_address[1]
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    srv = orthanc_factory(orthanc_factory.script('api_known.py'), start=False)
    srv.overrides['OrthancPeers'] = {
        'self': {'Url': 'http://127.0.0.1:%d/' % srv.http_port, 'Site': 'here'},
        'other': ['http://127.0.0.1:1/'],
    }
    srv.start()
    srv.dicom = dicomgen.make_instance(patient_id='KNOWN-1', accession_number='KNOWNACC')
    srv.ds = pydicom.dcmread(io.BytesIO(srv.dicom))
    srv.ids = srv.upload(srv.dicom)
    query = dicomgen.make_instance(patient_id='KNOWN-1', study_description='other study')
    srv.query_id = srv.upload(query)['ID']
    return srv


def known(srv, topic, **args):
    query = '&'.join('%s=%s' % (k, v) for k, v in args.items())
    status, _, body = srv.get('/known/%s?%s' % (topic, query))
    assert status == 200, body
    answer = json.loads(body)
    assert 'ok' in answer, answer.get('error')
    return answer['ok']


def b(v):
    assert isinstance(v, dict) and 'b64' in v, v
    return base64.b64decode(v['b64'])


def value(outcome):
    assert 'value' in outcome, outcome
    return outcome['value']


def orthanc_error(outcome):
    """The outcome is an orthanc.OrthancException with an int code; returns it."""
    assert outcome.get('exc') == 'OrthancException' and outcome['is_orthanc'], outcome
    code, description = outcome['args']
    assert isinstance(code, int) and isinstance(description, str)
    return code


# ------------------------------------------------------------ toolbox

def test_hashes(srv):
    r = known(srv, 'hash')
    md5 = hashlib.md5(b'abc').hexdigest()
    sha1 = hashlib.sha1(b'abc').hexdigest()
    sha1 = '-'.join(sha1[i:i + 8] for i in range(0, 40, 8))  # Orthanc's format
    assert [value(o) for o in r['ComputeMd5']] == [md5] * 4
    assert value(r['ComputeMd5_kw']) == md5
    assert value(r['ComputeMd5_empty']) == hashlib.md5(b'').hexdigest()
    assert [value(o) for o in r['ComputeSha1']] == [sha1] * 4
    assert value(r['ComputeSha1_kw']) == sha1


def test_generate_uuid(srv):
    uuids = known(srv, 'uuid')
    assert len(set(uuids)) == 3
    for u in uuids:
        assert re.fullmatch(r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', u), u
        assert str(uuid.UUID(u)) == u


def test_png_round_trip(srv):
    r = known(srv, 'png')
    g = r['gray']
    assert b(g['pixels']) == bytes([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110])
    assert (g['format'], g['width'], g['height'], g['pitch']) == (1, 4, 3, 4)
    png = PIL.Image.open(io.BytesIO(b(g['png'])))
    assert png.format == 'PNG' and png.size == (4, 3)
    assert list(png.getdata()) == [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110]
    assert b(r['rgb']['pixels']) == bytes(range(12)) and r['rgb']['format'] == 4
    assert r['short']['exc'] == 'ValueError'
    orthanc_error(r['bad_png'])


def test_jpeg_decodes(srv):
    r = known(srv, 'jpeg')
    jpeg = b(r['jpeg'])
    assert jpeg[:3] == b'\xff\xd8\xff'
    image = PIL.Image.open(io.BytesIO(jpeg))
    assert image.format == 'JPEG' and image.size == (16, 16) and image.mode == 'L'
    assert (r['width'], r['height'], r['format']) == (16, 16, 1)
    orthanc_error(r['bad_quality'])


def test_buffer_compression(srv):
    r = known(srv, 'compression')
    data = b'opy compression test ' * 50 + bytes(range(256))
    # ZLIB: Orthanc compresses, but cannot uncompress without the size prefix
    c = b(value(r['ZLIB']['compressed']))
    assert zlib.decompress(c) == data
    # GZIP and ZLIB_WITH_SIZE: round trips
    c = b(value(r['GZIP']['compressed']))
    assert gzip.decompress(c) == data
    assert b(value(r['GZIP']['uncompressed'])) == data
    c = b(value(r['ZLIB_WITH_SIZE']['compressed']))
    assert int.from_bytes(c[:8], 'little') == len(data) and zlib.decompress(c[8:]) == data
    assert b(value(r['ZLIB_WITH_SIZE']['uncompressed'])) == data
    orthanc_error(r['garbage'])


def test_memory_buffer(srv):
    r = known(srv, 'image')
    assert b(value(r['memory'])) == bytes(16)
    assert b(value(r['memory_zero'])) == b''


def test_files_and_mime(srv):
    r = known(srv, 'files', workdir=srv.workdir)
    assert value(r['write']) is None
    assert b(value(r['read'])) == b'file\x00content'
    assert (srv.workdir / 'opy-written.bin').read_bytes() == b'file\x00content'
    orthanc_error(r['read_missing'])
    orthanc_error(r['write_bad_dir'])
    mime = {k: value(v) for k, v in r['mime'].items()}
    assert mime['a.png'] == 'image/png'
    assert mime['b.json'] == 'application/json'
    assert mime['c.dcm'] == 'application/dicom'
    assert mime['e.html'] == 'text/html'


def test_system_information(srv):
    r = known(srv, 'system')
    assert r['argv'] == ['--verbose', str(srv.config_path)] and r['argc'] == 2
    orthanc_error(r['argv_bad'])
    assert r['path'] == '/usr/sbin/Orthanc' and r['directory'] == '/usr/sbin'
    assert r['config_path'] == str(srv.config_path)
    assert r['config']['HttpPort'] == srv.http_port
    assert r['db_version'] == 6  # Orthanc 1.10.1's database schema
    # CheckVersion(): is the running Orthanc at least the SDK header the plugin was built with
    assert r['check'] == int(harness.orthanc_version() >= harness.sdk_header_version())
    assert r['check_adv'] == [1, 1, 0]
    assert r['error_description'][0] == 'Unknown resource'
    assert [o['value'] for o in r['log']] == [None, None, None]
    srv.wait_log(harness.line('opy-known-warning', 'W'))
    srv.wait_log(harness.line('opy-known-error', 'E'))


# ------------------------------------------------------------ DICOM

def test_dicom_buffer_to_json(srv):
    r = known(srv, 'dicomjson', instance=srv.ids['ID'])
    assert r['size'] == len(srv.dicom)
    assert r['full']['PatientID'] == 'KNOWN-1'
    assert r['short']['0010,0020'] == 'KNOWN-1'
    assert r['instance']['PatientID'] == 'KNOWN-1'
    assert r['web_json']['00100020'] == {'vr': 'LO', 'Value': ['KNOWN-1']}
    assert 'KNOWN-1' in r['web_xml'] and r['web_xml'].lstrip().startswith('<?xml')
    assert orthanc_error(r['missing']) == 17
    orthanc_error(r['garbage'])


def test_lookup_dictionary(srv):
    r = known(srv, 'dictionary')
    assert value(r['PatientID']) == {'Element': 32, 'Group': 16, 'MaxMultiplicity': 1,
                                     'MinMultiplicity': 1, 'ValueRepresentation': 11}
    assert value(r['kw'])['Element'] == 0x20 and value(r['kw'])['Group'] == 8
    orthanc_error(r['missing'])


def test_register_at_import(srv):
    r = known(srv, 'import')
    # RegisterErrorCode hands back the code Orthanc assigned; it is not an error
    assert 'value' in r['error_code'], r['error_code']
    assert value(r['dictionary_tag']) is None
    assert value(r['private_tag']) is None
    tags = known(srv, 'tags')
    assert value(tags['custom']) == 'OpyCustomTag'
    assert value(tags['private']) == 'OpyPrivateTag'


def test_registered_error_code_reaches_client(srv):
    code = value(known(srv, 'import')['error_code'])
    assert isinstance(code, int) and code >= 1000000
    status, _, body = srv.get('/known-answer/error')
    assert status == 402, body


def test_get_tag_name(srv):
    r = known(srv, 'tags')
    assert value(r['none']) == 'PatientID'
    assert value(r['empty']) == 'PatientName'
    assert value(r['kw']) == 'Modality'


def test_lookups(srv):
    ds = srv.ds
    r = known(srv, 'lookup', patient=ds.PatientID, study=ds.StudyInstanceUID,
              series=ds.SeriesInstanceUID, instance=ds.SOPInstanceUID, accession=ds.AccessionNumber)
    assert value(r['patient']) == srv.ids['ParentPatient']
    assert value(r['study']) == srv.ids['ParentStudy']
    assert value(r['series']) == srv.ids['ParentSeries']
    assert value(r['instance']) == srv.ids['ID']
    assert value(r['accession']) == srv.ids['ParentStudy']
    for key in ('patient', 'study', 'series', 'instance', 'accession'):
        orthanc_error(r[key + '_missing'])


def test_dicom_instance_methods(srv):
    r = known(srv, 'instance', instance=srv.ids['ID'])
    assert r['size'] == len(srv.dicom) and r['size_type'] == 'int'
    assert r['data_equal'] and r['serialized_equal']
    assert r['json']['0010,0020']['Value'] == 'KNOWN-1'
    assert r['simplified']['PatientID'] == 'KNOWN-1'
    assert r['advanced']['0010,0020'] == 'KNOWN-1'
    assert r['frames'] == 1 and r['has_pixels'] == 1
    assert b(r['raw_frame']) == srv.ds.PixelData
    assert (r['decoded']['w'], r['decoded']['h'], r['decoded']['format']) == (8, 8, 1)
    assert b(r['decoded']['pixels']) == srv.ds.PixelData
    orthanc_error(r['bad_frame'])
    orthanc_error(r['bad_raw_frame'])
    assert r['transfer_syntax'] == '1.2.840.10008.1.2.1'
    assert r['web_json']['00100020']['Value'] == ['KNOWN-1']
    assert 'KNOWN-1' in r['web_xml']
    # DCMTK parses even garbage leniently: either outcome, as long as no crash
    assert 'value' in r['garbage'] or orthanc_error(r['garbage'])
    assert r['transcoded_ts'] == '1.2.840.10008.1.2' and r['transcoded_frame_equal']
    orthanc_error(r['transcode_bad'])
    assert r['decode_dicom_image'] == {'w': 8, 'h': 8, 'equal': True}
    orthanc_error(r['decode_bad'])


def test_dicom_instance_origin_and_metadata(srv):
    # An instance made by CreateDicomInstance was not received: Orthanc
    # reports the "plugin" origin, and it has neither remote AET nor metadata.
    r = known(srv, 'instance', instance=srv.ids['ID'])
    assert value(r['origin']) == 4  # InstanceOrigin.PLUGIN
    assert value(r['remote_aet']) in ('', None)
    assert value(r['has_metadata']) == 0
    assert value(r['metadata']) is None


def test_find_matcher(srv):
    r = known(srv, 'matcher', instance=srv.ids['ID'], query=srv.query_id)
    assert r['match'] in (0, 1) and r['nomatch_query_self'] in (0, 1)
    orthanc_error(r['garbage_query'])
    orthanc_error(r['garbage_dicom'])


def test_create_dicom(srv):
    r = known(srv, 'create')
    assert r['no_image']['0010,0020'] == 'OPY-CREATED'
    assert '7fe0,0010' not in r['no_image']
    assert r['with_image']['frames'] == 1 and b(r['with_image']['pixels']) == bytes(range(8))
    assert r['create2']['0010,0020'] == 'OPY-CREATED2'
    assert r['create2_image'] == 1
    orthanc_error(r['bad_json'])


# ------------------------------------------------------------ images

def test_image_methods(srv):
    r = known(srv, 'image')
    assert r['created'] == {'w': 5, 'h': 3, 'pitch': 15, 'format': 4, 'buf_len': 45}
    fb = r['from_buffer']
    # rows of 3 bytes taken from a buffer of pitch 4; the copy has its own pitch
    assert (fb['w'], fb['h']) == (3, 2)
    assert b(fb['buffer']) == _rows(bytes(range(8)), 4, 3, 2, fb['pitch'])
    assert r['from_buffer_short']['exc'] == 'ValueError'
    assert r['converted']['format'] == 4 and r['converted']['w'] == 2
    assert b(r['converted']['buffer']) == bytes([7, 7, 7, 200, 200, 200])
    assert value(r['draw']) is None and r['drawn_nonzero'] > 0
    orthanc_error(r['draw_bad_font'])
    assert r['fonts'] and all(isinstance(f['name'], str) and f['size'] > 0 for f in r['fonts'])
    orthanc_error(r['font_bad'])
    orthanc_error(r['font_size_bad'])


def _rows(buf, pitch_in, width, height, pitch_out):
    """The width first bytes of each row of buf, laid out with pitch_out."""
    out = b''
    for y in range(height):
        row = buf[y * pitch_in:y * pitch_in + width]
        out += row + bytes(pitch_out - width)
    return out


def test_compress_and_answer_png(srv):
    status, headers, body = srv.get('/known-answer/png')
    assert status == 200 and headers['content-type'] == 'image/png'
    image = PIL.Image.open(io.BytesIO(body))
    assert image.size == (4, 2) and list(image.getdata()) == list(range(0, 80, 10))


def test_compress_and_answer_jpeg(srv):
    status, headers, body = srv.get('/known-answer/jpeg')
    assert status == 200 and headers['content-type'] == 'image/jpeg'
    assert PIL.Image.open(io.BytesIO(body)).size == (8, 8)


def test_multipart_items(srv):
    status, headers, body = srv.get('/known-answer/multipart')
    assert status == 200
    ctype = headers['content-type']
    assert ctype.startswith('multipart/related')
    boundary = re.search(r'boundary=([^;]+)', ctype).group(1).strip('"')
    parts = body.split(b'--' + boundary.encode())
    items = [p for p in parts if p.strip() not in (b'', b'--')]
    assert len(items) == 3
    head, _, content = items[0].partition(b'\r\n\r\n')
    assert b'x-item: one' in head.lower() and content.rstrip(b'\r\n') == b'first item'
    assert items[1].rstrip(b'\r\n').endswith(b'second item')
    assert items[2].rstrip(b'\r\n').endswith(b'third item')


def test_cookie_and_header(srv):
    status, headers, body = srv.get('/known-answer/cookie')
    assert (status, body) == (200, b'with cookie')
    assert headers['set-cookie'].startswith('opy-cookie=cookie-value')
    assert headers['x-opy-header'] == 'header-value'


def test_send_http_status_code(srv):
    status, _, body = srv.get('/known-answer/status-code')
    assert (status, body) == (204, b'')


def test_http_error_details(srv):
    # SetHttpErrorDetails, then an error: the only way a Python callback
    # reports an error is raising, so the details it set must survive that.
    status, _, body = srv.get('/known-answer/error-details')
    assert status == 400
    assert b'opy-error-details' in body, body


# ------------------------------------------------------------ peers, HTTP, REST

def test_peers(srv):
    r = known(srv, 'peers')
    assert r['count'] == 2
    by_name = {p['name']: p for p in r['peers']}
    assert by_name['self']['url'] == 'http://127.0.0.1:%d/' % srv.http_port
    assert by_name['self']['prop'] == 'here'
    assert by_name['other']['url'] == 'http://127.0.0.1:1/'
    assert by_name['other']['prop'] is None and by_name['self']['noprop'] is None
    status, headers, body = value(r['call'])
    assert status == 200 and json.loads(b(body))['HttpPort'] == srv.http_port
    assert isinstance(headers, dict)
    status, headers, body = value(r['call_post'])
    assert status == 200 and json.loads(b(body)) == []
    orthanc_error(r['bad_index'])


def test_http_functions(srv, web):
    web.seen.clear()
    r = known(srv, 'http', url=web.url)
    assert json.loads(b(value(r['get'])))['path'] == '/get'
    assert json.loads(b(value(r['post']))) == {'method': 'POST', 'path': '/post',
                                               'body': 'post-body\x00\xff'}
    assert json.loads(b(value(r['put'])))['body'] == 'put-body'
    assert value(r['delete']) is None
    orthanc_error(r['get_404'])
    status, headers, body = value(r['client'])
    assert status == 200 and headers.get('X-Served-By', headers.get('x-served-by')) == 'opy-test'
    assert json.loads(b(body)) == {'method': 'POST', 'path': '/client', 'body': 'client-body'}
    assert value(r['client_get'])[0] == 200
    assert value(r['client_404'])[0] == 404
    seen = {s['path']: s for s in web.seen}
    assert seen['/auth']['headers']['authorization'] == 'Basic ' + base64.b64encode(b'alice:secret').decode()
    assert 'authorization' not in seen['/get']['headers']
    assert seen['/client']['headers']['x-opy-header'] == 'hv'
    assert seen['/delete']['method'] == 'DELETE'


def test_rest_api_with_headers(srv):
    r = known(srv, 'restapi')
    echo = json.loads(b(value(r['get2'])))
    assert echo['headers']['x-opy-a'] == 'a1'
    assert json.loads(b(value(r['get2_core'])))['HttpPort'] == srv.http_port
    assert orthanc_error(r['get2_before']) == 17
    status, headers, body = value(r['call_get'])
    assert status == 200 and json.loads(b(body))['headers']['x-opy-b'] == 'b1'
    assert headers['content-type'] == 'application/json'
    status, headers, body = value(r['call_post'])
    assert status == 200 and json.loads(b(body)) == {'method': 'POST', 'headers': {'x-opy-c': 'c1'},
                                                     'body': 'posted'}
    assert value(r['call_core'])[0] == 200
    call_missing = r['call_missing']
    assert ('value' in call_missing and call_missing['value'][0] == 404) or orthanc_error(call_missing) == 17
    token = value(r['token'])
    assert isinstance(token, str) and token


# ------------------------------------------------------------ server-wide state

def test_global_property_after_start(srv):
    r = known(srv, 'started')
    assert value(r['default']) == 'dflt'
    assert value(r['set']) is None
    assert value(r['get']) == 'opy-value'
    assert value(r['kw']) == 'opy-value'


def test_metrics_in_prometheus(srv):
    r = known(srv, 'metrics')
    assert value(r['gauge']) is None and value(r['timer']) is None
    status, _, body = srv.get('/tools/metrics-prometheus')
    assert status == 200
    text = body.decode()
    assert re.search(r'^opy_test_metric 12\.5\b', text, re.MULTILINE), text[:2000]
    assert re.search(r'^opy_test_timer 3\b', text, re.MULTILINE)


def test_set_description_root_uri_and_explorer(srv):
    r = known(srv, 'import')
    assert value(r['description']) is None and value(r['root_uri']) is None
    assert value(r['explorer']) is None
    plugins = srv.get_json('/plugins/python')
    assert plugins.get('Description') == 'opy test plugin description', plugins
    assert plugins.get('RootUri', '').endswith('/opy-root/index.html'), plugins
    assert plugins.get('ExtendsOrthancExplorer') is True, plugins
    # Orthanc 1.10.1 serves the plugins' JavaScript at /plugins/explorer.js
    # (loaded by /app/explorer.html after its own explorer.js)
    status, _, body = srv.get('/plugins/explorer.js')
    assert status == 200 and b'opy-explorer-marker-1234' in body
