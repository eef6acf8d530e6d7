# SPDX-License-Identifier: GPL-3.0-or-later
# Known answers of the generated SDK wrappers, computed inside the server.
# GET /known/<topic>?... answers {"ok": result} or {"error": [type, args]}
# as JSON; test_api_known.py checks the values.
import base64
import json
import os
import traceback

import orthanc

IMPORT = {}


def Outcome(fn, *args, **kw):
    try:
        return {'value': Plain(fn(*args, **kw))}
    except Exception as e:
        return {'exc': type(e).__name__, 'is_orthanc': isinstance(e, orthanc.OrthancException),
                'args': [Plain(a) for a in e.args]}


def Plain(v):
    if isinstance(v, (bytes, bytearray)):
        return {'b64': base64.b64encode(bytes(v)).decode()}
    if isinstance(v, dict):
        return {str(k): Plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [Plain(x) for x in v]
    if v is None or isinstance(v, (int, float, str, bool)):
        return v
    return repr(v)


# ---------------------------------------------------------------- import time

IMPORT['error_code'] = Outcome(orthanc.RegisterErrorCode, 42, 402, 'opy custom error')
IMPORT['dictionary_tag'] = Outcome(orthanc.RegisterDictionaryTag, 0x0098, 0x0010,
                                   orthanc.ValueRepresentation.LO, 'OpyCustomTag', 1, 1)
IMPORT['private_tag'] = Outcome(orthanc.RegisterPrivateDictionaryTag, 0x0013, 0x1010,
                                orthanc.ValueRepresentation.LO, 'OpyPrivateTag', 1, 1, 'OPYCREATOR')
IMPORT['description'] = Outcome(orthanc.SetDescription, 'opy test plugin description')
IMPORT['root_uri'] = Outcome(orthanc.SetRootUri, '/opy-root/index.html')
IMPORT['explorer'] = Outcome(orthanc.ExtendOrthancExplorer, '/* opy-explorer-marker-1234 */')

# RegisterErrorCode hands back the code Orthanc assigned (None if the
# wrapper does not return it).
CUSTOM_CODE = IMPORT['error_code'].get('value')

STARTED = {}


def OnChange(changeType, level, resource):
    if changeType == orthanc.ChangeType.ORTHANC_STARTED:
        STARTED['default'] = Outcome(orthanc.GetGlobalProperty, 4242, 'dflt')
        STARTED['set'] = Outcome(orthanc.SetGlobalProperty, 4242, 'opy-value')
        STARTED['get'] = Outcome(orthanc.GetGlobalProperty, 4242, 'dflt')
        STARTED['kw'] = Outcome(orthanc.GetGlobalProperty, property=4242, defaultValue='x')


orthanc.RegisterOnChangeCallback(OnChange)


# ---------------------------------------------------------------- topics

def T_import(get):
    return IMPORT


def T_started(get):
    return STARTED


def T_hash(get):
    r = {}
    for fn in (orthanc.ComputeMd5, orthanc.ComputeSha1):
        r[fn.__name__] = [Outcome(fn, v) for v in
                          ('abc', b'abc', bytearray(b'abc'), memoryview(b'xabcx')[1:4])]
        r[fn.__name__ + '_empty'] = Outcome(fn, b'')
        r[fn.__name__ + '_kw'] = Outcome(fn, buffer=b'abc')
    return r


def T_uuid(get):
    return [orthanc.GenerateUuid() for _ in range(3)]


def T_png(get):
    r = {}
    gray = bytes([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110])  # 4x3, pitch 4
    png = orthanc.CompressPngImage(orthanc.PixelFormat.GRAYSCALE8, 4, 3, 4, gray)
    img = orthanc.UncompressImage(png, orthanc.ImageFormat.PNG)
    r['gray'] = {'png': Plain(png), 'pixels': Plain(img.GetImageBuffer()),
                 'format': img.GetImagePixelFormat(), 'width': img.GetImageWidth(),
                 'height': img.GetImageHeight(), 'pitch': img.GetImagePitch()}
    rgb = bytes(range(2 * 2 * 3))
    png = orthanc.CompressPngImage(orthanc.PixelFormat.RGB24, 2, 2, 6, rgb)
    img = orthanc.UncompressImage(png, orthanc.ImageFormat.PNG)
    r['rgb'] = {'pixels': Plain(img.GetImageBuffer()), 'format': img.GetImagePixelFormat()}
    r['short'] = Outcome(orthanc.CompressPngImage, orthanc.PixelFormat.GRAYSCALE8, 4, 3, 4, gray[:-1])
    r['bad_png'] = Outcome(orthanc.UncompressImage, b'not a png', orthanc.ImageFormat.PNG)
    return r


def T_jpeg(get):
    gray = bytes((x * 7) % 256 for x in range(16 * 16))
    jpeg = orthanc.CompressJpegImage(orthanc.PixelFormat.GRAYSCALE8, 16, 16, 16, gray, 90)
    img = orthanc.UncompressImage(jpeg, orthanc.ImageFormat.JPEG)
    return {'jpeg': Plain(jpeg), 'width': img.GetImageWidth(), 'height': img.GetImageHeight(),
            'format': img.GetImagePixelFormat(),
            'bad_quality': Outcome(orthanc.CompressJpegImage, orthanc.PixelFormat.GRAYSCALE8,
                                   16, 16, 16, gray, 101)}


def T_dicomjson(get):
    dicom = orthanc.GetDicomForInstance(get['instance'])
    r = {'size': len(dicom)}
    r['full'] = json.loads(orthanc.DicomBufferToJson(dicom, orthanc.DicomToJsonFormat.HUMAN,
                                                     orthanc.DicomToJsonFlags.NONE, 0))
    r['short'] = json.loads(orthanc.DicomBufferToJson(dicom, orthanc.DicomToJsonFormat.SHORT,
                                                      orthanc.DicomToJsonFlags.NONE, 0))
    r['instance'] = json.loads(orthanc.DicomInstanceToJson(get['instance'], orthanc.DicomToJsonFormat.HUMAN,
                                                           orthanc.DicomToJsonFlags.NONE, 0))
    r['web_json'] = json.loads(orthanc.EncodeDicomWebJson2(dicom))
    r['web_xml'] = orthanc.EncodeDicomWebXml2(dicom)
    r['missing'] = Outcome(orthanc.GetDicomForInstance, 'nope')
    r['garbage'] = Outcome(orthanc.DicomBufferToJson, b'garbage', orthanc.DicomToJsonFormat.HUMAN,
                           orthanc.DicomToJsonFlags.NONE, 0)
    return r


def T_dictionary(get):
    return {'PatientID': Outcome(orthanc.LookupDictionary, 'PatientID'),
            'kw': Outcome(orthanc.LookupDictionary, name='StudyDate'),
            'custom': Outcome(orthanc.LookupDictionary, 'OpyCustomTag'),
            'missing': Outcome(orthanc.LookupDictionary, 'NoSuchTagName')}


def T_peers(get):
    peers = orthanc.GetPeers()
    n = peers.GetPeersCount()
    r = {'count': n, 'peers': []}
    for i in range(n):
        r['peers'].append({'name': peers.GetPeerName(i), 'url': peers.GetPeerUrl(i),
                           'prop': peers.GetPeerUserProperty(i, 'Site'),
                           'noprop': peers.GetPeerUserProperty(i, 'NoSuchProperty')})
    me = [i for i in range(n) if peers.GetPeerName(i) == 'self'][0]
    r['call'] = Outcome(peers.CallPeerApi, me, orthanc.HttpMethod.GET, '/system')
    r['call_post'] = Outcome(peers.CallPeerApi, me, orthanc.HttpMethod.POST, '/tools/lookup',
                             additionalHeaders={'X-Opy': '1'}, body=b'no-such-uid', timeout=10)
    r['bad_index'] = Outcome(peers.GetPeerName, n + 5)
    return r


def T_http(get):
    url = get['url']
    r = {}
    r['get'] = Outcome(orthanc.HttpGet, url + '/get', None, None)
    r['get_auth'] = Outcome(orthanc.HttpGet, url + '/auth', 'alice', 'secret')
    r['post'] = Outcome(orthanc.HttpPost, url + '/post', b'post-body\x00\xff', None, None)
    r['put'] = Outcome(orthanc.HttpPut, url + '/put', 'put-body', None, None)
    r['delete'] = Outcome(orthanc.HttpDelete, url + '/delete', None, None)
    r['get_404'] = Outcome(orthanc.HttpGet, url + '/missing', None, None)
    r['client'] = Outcome(orthanc.HttpClient, orthanc.HttpMethod.POST, url + '/client',
                          headers={'X-Opy-Header': 'hv'}, body=b'client-body', timeout=10)
    r['client_get'] = Outcome(orthanc.HttpClient, method=orthanc.HttpMethod.GET, url=url + '/get')
    r['client_404'] = Outcome(orthanc.HttpClient, orthanc.HttpMethod.GET, url + '/missing')
    return r


def T_compression(get):
    data = b'opy compression test ' * 50 + bytes(range(256))
    r = {}
    for name in ('ZLIB', 'GZIP', 'ZLIB_WITH_SIZE'):
        kind = getattr(orthanc.CompressionType, name)
        c = Outcome(orthanc.BufferCompression, data, kind, 0)
        r[name] = {'compressed': c}
        if 'value' in c:
            d = Outcome(orthanc.BufferCompression, base64.b64decode(c['value']['b64']), kind, 1)
            r[name]['uncompressed'] = d
    r['garbage'] = Outcome(orthanc.BufferCompression, b'garbage!', orthanc.CompressionType.ZLIB, 1)
    return r


def EchoHeaders(output, uri, **request):
    output.AnswerBuffer(json.dumps({'method': request['method'], 'headers': request['headers'],
                                    'body': request.get('body', b'').decode('latin-1')}),
                        'application/json')


orthanc.RegisterRestCallback('/known-echo', EchoHeaders)


def T_restapi(get):
    r = {}
    r['get2'] = Outcome(orthanc.RestApiGet2, '/known-echo', {'X-Opy-A': 'a1'}, True)
    r['get2_core'] = Outcome(orthanc.RestApiGet2, '/system', {'X-Opy-A': 'a1'}, False)
    r['get2_before'] = Outcome(orthanc.RestApiGet2, '/known-echo', {}, False)
    r['call_get'] = Outcome(orthanc.CallRestApi, orthanc.HttpMethod.GET, '/known-echo',
                            headers={'X-Opy-B': 'b1'}, afterPlugins=True)
    r['call_post'] = Outcome(orthanc.CallRestApi, orthanc.HttpMethod.POST, '/known-echo',
                             {'X-Opy-C': 'c1'}, b'posted', True)
    r['call_core'] = Outcome(orthanc.CallRestApi, orthanc.HttpMethod.GET, '/system')
    r['call_missing'] = Outcome(orthanc.CallRestApi, orthanc.HttpMethod.GET, '/no-such-route')
    r['token'] = Outcome(orthanc.GenerateRestApiAuthorizationToken)
    return r


def T_instance(get):
    dicom = orthanc.GetDicomForInstance(get['instance'])
    inst = orthanc.CreateDicomInstance(dicom)
    r = {'len': len(dicom)}
    r['size'] = inst.GetInstanceSize()
    r['size_type'] = type(r['size']).__name__
    r['data_equal'] = inst.GetInstanceData() == dicom
    r['json'] = json.loads(inst.GetInstanceJson())
    r['simplified'] = json.loads(inst.GetInstanceSimplifiedJson())
    r['advanced'] = json.loads(inst.GetInstanceAdvancedJson(orthanc.DicomToJsonFormat.SHORT,
                                                            orthanc.DicomToJsonFlags.NONE, 0))
    r['frames'] = inst.GetInstanceFramesCount()
    r['has_pixels'] = inst.HasInstancePixelData()
    r['raw_frame'] = Plain(inst.GetInstanceRawFrame(0))
    frame = inst.GetInstanceDecodedFrame(0)
    r['decoded'] = {'w': frame.GetImageWidth(), 'h': frame.GetImageHeight(),
                    'format': frame.GetImagePixelFormat(), 'pixels': Plain(frame.GetImageBuffer())}
    r['bad_frame'] = Outcome(inst.GetInstanceDecodedFrame, 5)
    r['bad_raw_frame'] = Outcome(inst.GetInstanceRawFrame, 5)
    r['serialized_equal'] = inst.SerializeDicomInstance() == dicom
    r['transfer_syntax'] = inst.GetInstanceTransferSyntaxUid()
    r['origin'] = Outcome(inst.GetInstanceOrigin)
    r['remote_aet'] = Outcome(inst.GetInstanceRemoteAet)
    r['has_metadata'] = Outcome(inst.HasInstanceMetadata, 'TransferSyntax')
    r['metadata'] = Outcome(inst.GetInstanceMetadata, 'TransferSyntax')
    r['web_json'] = json.loads(inst.GetInstanceDicomWebJson())
    r['web_xml'] = inst.GetInstanceDicomWebXml()
    r['garbage'] = Outcome(orthanc.CreateDicomInstance, b'not dicom')
    # transcoding and decoding
    t = orthanc.TranscodeDicomInstance(dicom, '1.2.840.10008.1.2')  # implicit little endian
    r['transcoded_ts'] = t.GetInstanceTransferSyntaxUid()
    r['transcoded_frame_equal'] = (t.GetInstanceDecodedFrame(0).GetImageBuffer()
                                   == frame.GetImageBuffer())
    r['transcode_bad'] = Outcome(orthanc.TranscodeDicomInstance, dicom, '1.2.3.4.5.6.7')
    d = orthanc.DecodeDicomImage(dicom, 0)
    r['decode_dicom_image'] = {'w': d.GetImageWidth(), 'h': d.GetImageHeight(),
                               'equal': d.GetImageBuffer() == frame.GetImageBuffer()}
    r['decode_bad'] = Outcome(orthanc.DecodeDicomImage, dicom, 3)
    return r


def T_image(get):
    r = {}
    img = orthanc.CreateImage(orthanc.PixelFormat.RGB24, 5, 3)
    r['created'] = {'w': img.GetImageWidth(), 'h': img.GetImageHeight(), 'pitch': img.GetImagePitch(),
                    'format': img.GetImagePixelFormat(), 'buf_len': len(img.GetImageBuffer())}
    buf = bytes(range(4 * 2))
    b = orthanc.CreateImageFromBuffer(orthanc.PixelFormat.GRAYSCALE8, 3, 2, 4, buf)
    r['from_buffer'] = {'w': b.GetImageWidth(), 'h': b.GetImageHeight(), 'pitch': b.GetImagePitch(),
                        'buffer': Plain(b.GetImageBuffer())}
    r['from_buffer_short'] = Outcome(orthanc.CreateImageFromBuffer, orthanc.PixelFormat.GRAYSCALE8,
                                     3, 2, 4, buf[:-1])
    g = orthanc.CreateImageFromBuffer(orthanc.PixelFormat.GRAYSCALE8, 2, 1, 2, bytes([7, 200]))
    c = g.ConvertPixelFormat(orthanc.PixelFormat.RGB24)
    r['converted'] = {'format': c.GetImagePixelFormat(), 'w': c.GetImageWidth(),
                      'buffer': Plain(c.GetImageBuffer()[:6])}
    canvas = orthanc.CreateImageFromBuffer(orthanc.PixelFormat.GRAYSCALE8, 64, 32, 64, bytes(64 * 32))
    r['draw'] = Outcome(canvas.DrawText, 0, 'Hi', 2, 2, 255, 255, 255)
    r['drawn_nonzero'] = sum(1 for x in canvas.GetImageBuffer() if x)
    r['draw_bad_font'] = Outcome(canvas.DrawText, orthanc.GetFontsCount() + 3, 'x', 0, 0, 1, 1, 1)
    n = orthanc.GetFontsCount()
    r['fonts'] = [{'name': orthanc.GetFontName(i), 'size': orthanc.GetFontSize(i)} for i in range(n)]
    r['font_bad'] = Outcome(orthanc.GetFontName, n + 10)
    r['font_size_bad'] = Outcome(orthanc.GetFontSize, n + 10)
    r['memory'] = Outcome(orthanc.CreateMemoryBuffer, 16)
    r['memory_zero'] = Outcome(orthanc.CreateMemoryBuffer, 0)
    return r


def T_tags(get):
    return {'none': Outcome(orthanc.GetTagName, 0x0010, 0x0020, None),
            'empty': Outcome(orthanc.GetTagName, 0x0010, 0x0010, ''),
            'kw': Outcome(orthanc.GetTagName, group=0x0008, element=0x0060, privateCreator=None),
            'custom': Outcome(orthanc.GetTagName, 0x0098, 0x0010, None),
            'private': Outcome(orthanc.GetTagName, 0x0013, 0x1010, 'OPYCREATOR'),
            'unknown': Outcome(orthanc.GetTagName, 0x0009, 0x0077, None)}


def T_lookup(get):
    r = {}
    for key, fn in (('patient', orthanc.LookupPatient), ('study', orthanc.LookupStudy),
                    ('series', orthanc.LookupSeries), ('instance', orthanc.LookupInstance),
                    ('accession', orthanc.LookupStudyWithAccessionNumber)):
        r[key] = Outcome(fn, get[key])
        r[key + '_missing'] = Outcome(fn, 'no-such-identifier-opy')
    return r


def T_metrics(get):
    return {'gauge': Outcome(orthanc.SetMetricsValue, 'opy_test_metric', 12.5,
                             orthanc.MetricsType.DEFAULT),
            'timer': Outcome(orthanc.SetMetricsValue, 'opy_test_timer', 3,
                             orthanc.MetricsType.TIMER)}


def T_files(get):
    workdir = get['workdir']
    path = os.path.join(workdir, 'opy-written.bin')
    r = {'write': Outcome(orthanc.WriteFile, path, b'file\x00content')}
    r['read'] = Outcome(orthanc.ReadFile, path)
    r['read_missing'] = Outcome(orthanc.ReadFile, os.path.join(workdir, 'no-such-file'))
    r['write_bad_dir'] = Outcome(orthanc.WriteFile, os.path.join(workdir, 'no-dir', 'x'), b'x')
    r['mime'] = {n: Outcome(orthanc.AutodetectMimeType, n)
                 for n in ('a.png', 'b.json', 'c.dcm', 'd.unknownext', 'e.html')}
    return r


def T_system(get):
    r = {}
    n = orthanc.GetCommandLineArgumentsCount()
    r['argc'] = n
    r['argv'] = [orthanc.GetCommandLineArgument(i) for i in range(n)]
    r['argv_bad'] = Outcome(orthanc.GetCommandLineArgument, n + 3)
    r['path'] = orthanc.GetOrthancPath()
    r['directory'] = orthanc.GetOrthancDirectory()
    r['config_path'] = orthanc.GetConfigurationPath()
    r['config'] = json.loads(orthanc.GetConfiguration())
    r['db_version'] = orthanc.GetExpectedDatabaseVersion()
    r['check'] = orthanc.CheckVersion()
    r['check_adv'] = [orthanc.CheckVersionAdvanced(1, 10, 1), orthanc.CheckVersionAdvanced(1, 0, 0),
                      orthanc.CheckVersionAdvanced(99, 0, 0)]
    r['error_description'] = [orthanc.GetErrorDescription(orthanc.ErrorCode.UNKNOWN_RESOURCE),
                              Outcome(orthanc.GetErrorDescription, CUSTOM_CODE or 0)]
    r['log'] = [Outcome(orthanc.LogInfo, 'opy-known-info'), Outcome(orthanc.LogWarning, 'opy-known-warning'),
                Outcome(orthanc.LogError, 'opy-known-error')]
    return r


def T_matcher(get):
    dicom = orthanc.GetDicomForInstance(get['instance'])
    q = orthanc.GetDicomForInstance(get['query'])
    m = orthanc.CreateFindMatcher(q)
    return {'match': m.FindMatcherIsMatch(dicom),
            'nomatch_query_self': orthanc.CreateFindMatcher(dicom).FindMatcherIsMatch(dicom),
            'garbage_query': Outcome(orthanc.CreateFindMatcher, b'garbage'),
            'garbage_dicom': Outcome(m.FindMatcherIsMatch, b'garbage')}


def T_create(get):
    tags = json.dumps({'PatientID': 'OPY-CREATED', 'PatientName': 'Created^Opy',
                       'SOPClassUID': '1.2.840.10008.5.1.4.1.1.7'})
    r = {}
    d = orthanc.CreateDicom(tags, None, orthanc.CreateDicomFlags.GENERATE_IDENTIFIERS)
    r['no_image'] = json.loads(orthanc.DicomBufferToJson(d, orthanc.DicomToJsonFormat.SHORT,
                                                         orthanc.DicomToJsonFlags.NONE, 0))
    img = orthanc.CreateImageFromBuffer(orthanc.PixelFormat.GRAYSCALE8, 4, 2, 4, bytes(range(8)))
    d = orthanc.CreateDicom(tags, img, orthanc.CreateDicomFlags.GENERATE_IDENTIFIERS)
    inst = orthanc.CreateDicomInstance(d)
    r['with_image'] = {'frames': inst.GetInstanceFramesCount(),
                       'pixels': Plain(inst.GetInstanceDecodedFrame(0).GetImageBuffer())}
    ptags = json.dumps({'PatientID': 'OPY-CREATED2', '0013,1010': 'private-value'})
    d2 = orthanc.CreateDicom2(ptags, None, orthanc.CreateDicomFlags.GENERATE_IDENTIFIERS, 'OPYCREATOR')
    r['create2'] = json.loads(orthanc.DicomBufferToJson(d2, orthanc.DicomToJsonFormat.SHORT,
                                                        orthanc.DicomToJsonFlags.NONE, 0))
    d3 = orthanc.CreateDicom2(tags, img, orthanc.CreateDicomFlags.GENERATE_IDENTIFIERS, None)
    r['create2_image'] = orthanc.CreateDicomInstance(d3).GetInstanceFramesCount()
    r['bad_json'] = Outcome(orthanc.CreateDicom, '{not json', None, orthanc.CreateDicomFlags.NONE)
    return r


TOPICS = {name[2:]: fn for name, fn in globals().items() if name.startswith('T_')}


def Known(output, uri, **request):
    topic = request['groups'][0]
    try:
        answer = {'ok': TOPICS[topic](request['get'])}
    except Exception as e:
        answer = {'error': [type(e).__name__, [Plain(a) for a in e.args], traceback.format_exc()]}
    output.AnswerBuffer(json.dumps(answer), 'application/json')


orthanc.RegisterRestCallback('/known/(.*)', Known)


# ---------------------------------------------------------------- RestOutput

def Answer(output, uri, **request):
    kind = request['groups'][0]
    if kind == 'png':
        output.CompressAndAnswerPngImage(orthanc.PixelFormat.GRAYSCALE8, 4, 2, 4, bytes(range(0, 80, 10)))
    elif kind == 'jpeg':
        output.CompressAndAnswerJpegImage(orthanc.PixelFormat.GRAYSCALE8, 8, 8, 8, bytes(range(64)), 80)
    elif kind == 'multipart':
        output.StartMultipartAnswer('related', 'text/plain')
        output.SendMultipartItem2('first item', {'X-Item': 'one'})
        output.SendMultipartItem2(b'second item', {})
        output.SendMultipartItem(b'third item')
    elif kind == 'cookie':
        output.SetCookie('opy-cookie', 'cookie-value')
        output.SetHttpHeader('X-Opy-Header', 'header-value')
        output.AnswerBuffer('with cookie', 'text/plain')
    elif kind == 'status-code':
        output.SendHttpStatusCode(204)
    elif kind == 'error-details':
        output.SetHttpErrorDetails('opy-error-details', 1)
        raise orthanc.OrthancException(orthanc.ErrorCode.BAD_REQUEST, 'opy-raised')
    elif kind == 'error':
        raise orthanc.OrthancException(CUSTOM_CODE or 0, 'opy custom')


orthanc.RegisterRestCallback('/known-answer/(.*)', Answer)
