# SPDX-License-Identifier: GPL-3.0-or-later
# Hostile arguments of the script's own calls (tests/robustness/test_hostile_calls.py):
# header injection through RestOutput and the header dicts, impossible image
# geometry, SDK errors. GET /hostile/<case> runs one case and answers
# {"result": [exception type, message]} (or ["returned", repr]) when it can still
# answer; GET /hostile-result/<case> gives the same afterwards.
import json

import orthanc

P = orthanc.PixelFormat
INJECT = 'a\r\nX-Injected: 1'

CASES = {
    # HTTP header injection: ValueError before anything reaches Orthanc
    'header_value_crlf': lambda o: o.SetHttpHeader('X-Probe', INJECT),
    'header_value_lf': lambda o: o.SetHttpHeader('X-Probe', 'a\nX-Injected: 1'),
    'header_value_cr': lambda o: o.SetHttpHeader('X-Probe', 'a\rX-Injected: 1'),
    'header_value_nul': lambda o: o.SetHttpHeader('X-Probe', 'a\x00b'),
    'header_name_crlf': lambda o: o.SetHttpHeader('X-Probe\r\nX-Injected', '1'),
    'header_name_space': lambda o: o.SetHttpHeader('X Probe', '1'),
    'header_name_colon': lambda o: o.SetHttpHeader('X-Injected: 1\r\nX', '1'),
    'header_name_empty': lambda o: o.SetHttpHeader('', '1'),
    'header_name_non_ascii': lambda o: o.SetHttpHeader('X-Caf\u00e9', '1'),
    'header_name_nul': lambda o: o.SetHttpHeader('X\x00', '1'),
    'cookie_value_crlf': lambda o: o.SetCookie('a', 'b\r\nX-Injected: 1'),
    'cookie_name_crlf': lambda o: o.SetCookie('a\r\nX-Injected: 1', 'b'),
    'cookie_name_semicolon': lambda o: o.SetCookie('a;b', 'c'),
    'cookie_name_equals': lambda o: o.SetCookie('a=b', 'c'),
    'redirect_crlf': lambda o: o.Redirect('/app\r\nX-Injected: 1'),
    'redirect_nul': lambda o: o.Redirect('/app\x00x'),
    'mime_type_crlf': lambda o: o.AnswerBuffer(b'x', 'text/plain\r\nX-Injected: 1'),
    'unauthorized_realm_crlf': lambda o: o.SendUnauthorized('realm\r\nX-Injected: 1'),
    'method_not_allowed_crlf': lambda o: o.SendMethodNotAllowed('GET\r\nX-Injected: 1'),
    'multipart_subtype_crlf': lambda o: o.StartMultipartAnswer('mixed\r\nX-Injected: 1', 'text/plain'),
    'multipart_content_type_lf': lambda o: o.StartMultipartAnswer('mixed', 'text/plain\nX-Injected: 1'),
    'multipart_item_header_value': lambda o: o.SendMultipartItem2(b'x', {'X-A': INJECT}),
    'multipart_item_header_name': lambda o: o.SendMultipartItem2(b'x', {'X-A\r\nX-Injected': '1'}),
    'rest_api_get2_header_value': lambda o: orthanc.RestApiGet2('/system', {'X-A': INJECT}, False),
    'rest_api_get2_header_name': lambda o: orthanc.RestApiGet2('/system', {'X A': '1'}, False),
    # image geometry that cannot be right: ValueError before the call
    'png_issue_12': lambda o: o.CompressAndAnswerPngImage(3, 2**31, 2**32 - 1, 0, b'\x00\xff'),
    'png_answer_pitch_short': lambda o: o.CompressAndAnswerPngImage(P.GRAYSCALE8, 4, 4, 2, b'\0' * 16),
    'jpeg_answer_buffer_short': lambda o: o.CompressAndAnswerJpegImage(P.GRAYSCALE8, 4, 4, 4, b'\0' * 15, 90),
    'png_buffer_short': lambda o: orthanc.CompressPngImage(P.GRAYSCALE8, 4, 4, 4, b'\0' * 15),
    'png_pitch_height_overflow': lambda o: orthanc.CompressPngImage(P.GRAYSCALE8, 65536, 65537, 65536, b''),
    'jpeg_row_overflow': lambda o: orthanc.CompressJpegImage(P.RGB24, 2**31, 1, 2**32 - 1, b'', 90),
    'create_image_overflow': lambda o: orthanc.CreateImage(P.GRAYSCALE8, 65536, 65537),
    'create_image_row_overflow': lambda o: orthanc.CreateImage(P.RGBA32, 2**30, 1),
    'from_buffer_pitch_short': lambda o: orthanc.CreateImageFromBuffer(P.GRAYSCALE8, 4, 4, 2, b'\0' * 16),
    'from_buffer_short': lambda o: orthanc.CreateImageFromBuffer(P.RGB24, 2, 2, 6, b'\0' * 11),
    # what Orthanc itself refuses: orthanc.OrthancException, never a silent 500
    'sdk_jpeg_gray16': lambda o: o.CompressAndAnswerJpegImage(P.GRAYSCALE16, 2, 2, 4, b'\0' * 8, 90),
    'sdk_png_float32': lambda o: orthanc.CompressPngImage(P.FLOAT32, 2, 2, 8, b'\0' * 16),
    'sdk_png_answer_unknown': lambda o: o.CompressAndAnswerPngImage(P.UNKNOWN, 2, 2, 8, b'\0' * 16),
    'sdk_create_unknown': lambda o: orthanc.CreateImage(P.UNKNOWN, 2, 2),
    'sdk_jpeg_quality_0': lambda o: o.CompressAndAnswerJpegImage(P.GRAYSCALE8, 2, 2, 2, b'\0' * 4, 0),
    'sdk_status_code_99': lambda o: o.SendHttpStatusCode(99),
    'sdk_unauthorized_twice': lambda o: (o.SendUnauthorized('x'), o.SendUnauthorized('x')),
    # still fine
    'good_png': lambda o: orthanc.CompressPngImage(P.GRAYSCALE8, 2, 2, 2, b'\0' * 4)[:8],
    'good_image': lambda o: orthanc.CreateImageFromBuffer(P.RGB24, 2, 2, 7, b'\1' * 14).GetImageWidth(),
}


RESULTS = {}


def hostile(output, uri, **request):
    name = request['groups'][0]
    try:
        result = ['returned', repr(CASES[name](output))]
    except Exception as e:
        result = [type(e).__name__, str(e)]
    RESULTS[name] = result
    try:
        output.AnswerBuffer(json.dumps({'result': result}), 'application/json')
    except orthanc.OrthancException:
        pass                    # the case answered already (or broke the output)


def result_of(output, uri, **request):
    output.AnswerBuffer(json.dumps({'result': RESULTS.get(request['groups'][0])}), 'application/json')


def good_headers(output, uri, **request):
    output.SetHttpHeader('X-Good', 'a value; with=spaces, "quotes" and \u00e9')
    output.SetCookie('good-cookie', 'v1')
    output.AnswerBuffer(b'ok', 'text/plain; charset=utf-8')


def good_multipart(output, uri, **request):
    output.StartMultipartAnswer('mixed', 'text/plain')
    output.SendMultipartItem2(b'part', {'X-Part': 'one two'})


orthanc.RegisterRestCallback('/hostile/(.*)', hostile)
orthanc.RegisterRestCallback('/hostile-result/(.*)', result_of)
orthanc.RegisterRestCallback('/good-headers', good_headers)
orthanc.RegisterRestCallback('/good-multipart', good_multipart)
