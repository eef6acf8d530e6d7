# SPDX-License-Identifier: GPL-3.0-or-later
# Introspection of the live orthanc module: POST /surface with a JSON list of
# [name, positional argument count] answers, per name, whether it exists,
# whether inspect.signature(...).bind() takes that many positional
# arguments (methods: on the unbound method, with a self placeholder), the
# parameter names and the docstring.
import inspect
import json

import orthanc


def Resolve(name):
    obj = orthanc
    for part in name.split('.'):
        obj = getattr(obj, part)
    return obj


def Describe(name, count):
    r = {'name': name}
    try:
        obj = Resolve(name)
    except AttributeError:
        r['exists'] = False
        return r
    r['exists'] = True
    r['callable'] = callable(obj)
    r['doc'] = inspect.getdoc(obj)
    try:
        sig = inspect.signature(obj)
    except Exception as e:
        r['signature_error'] = '%s: %s' % (type(e).__name__, e)
        return r
    r['signature'] = str(sig)
    r['params'] = list(sig.parameters)
    if count is not None:
        args = [None] * count
        if '.' in name:
            args = [None] + args  # self placeholder of the unbound method
        try:
            sig.bind(*args)
            r['bind'] = True
        except TypeError as e:
            r['bind'] = False
            r['bind_error'] = str(e)
    return r


def Surface(output, uri, **request):
    query = json.loads(request['body'])
    answer = [Describe(name, count) for name, count in query]
    output.AnswerBuffer(json.dumps(answer), 'application/json')


orthanc.RegisterRestCallback('/surface', Surface)


def Keywords(output, uri, **request):
    r = {'md5': orthanc.ComputeMd5(buffer=b'abc'),
         'tag': orthanc.GetTagName(group=0x0010, element=0x0010, privateCreator=None),
         'image': orthanc.CreateImage(format=orthanc.PixelFormat.GRAYSCALE8, width=3,
                                      height=2).GetImageWidth(),
         'compress': len(orthanc.BufferCompression(source=b'x' * 100,
                                                   compression=orthanc.CompressionType.GZIP,
                                                   uncompress=0))}
    img = orthanc.CreateImage(orthanc.PixelFormat.GRAYSCALE8, 2, 2)
    r['method_kw'] = img.ConvertPixelFormat(targetFormat=orthanc.PixelFormat.RGB24).GetImagePixelFormat()
    try:
        orthanc.ComputeMd5(nosuchkeyword=b'abc')
        r['bad_kw'] = None
    except TypeError as e:
        r['bad_kw'] = 'TypeError'
    try:
        orthanc.Image()
        r['instantiate'] = None
    except TypeError:
        r['instantiate'] = 'TypeError'
    output.AnswerBuffer(json.dumps(r), 'application/json')


orthanc.RegisterRestCallback('/keywords', Keywords)
