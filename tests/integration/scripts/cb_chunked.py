# SPDX-License-Identifier: GPL-3.0-or-later
# RegisterChunkedRestCallback: an upload area that receives bodies in
# chunks, hashing them on the fly without keeping them in memory.
import hashlib
import json

import orthanc

uploads = {}            # name -> {'size', 'sha256', 'chunks', 'method'}
stats = {'closed': 0, 'open': 0}


class Upload:
    def __init__(self, name, method, headers):
        self.name = name
        self.method = method
        self.content_type = headers.get('content-type', '')
        self.hash = hashlib.sha256()
        self.size = 0
        self.chunks = 0
        stats['open'] += 1

    def add_chunk(self, data):
        if self.name == 'fail-chunk' and self.chunks == 1:
            raise ValueError('chunk %d refused' % self.chunks)
        self.chunks += 1
        self.size += len(data)
        self.hash.update(data)
        return 'ignored'

    def execute(self, output):
        if self.name == 'fail-exec':
            raise orthanc.OrthancException(orthanc.ErrorCode.BAD_FILE_FORMAT, 'not a valid archive')
        if self.name == 'silent':
            return
        info = {'name': self.name, 'size': self.size, 'sha256': self.hash.hexdigest(),
                'chunks': self.chunks, 'method': self.method, 'type': self.content_type}
        uploads[self.name] = info
        output.AnswerBuffer(json.dumps(info), 'application/json')

    def close(self):
        stats['open'] -= 1
        stats['closed'] += 1


def factory(uri, method, groups, headers):
    name = groups[0] if groups else 'post-only'
    if name == 'fail-factory':
        raise RuntimeError('no space left for %s' % name)
    if name == 'bad-reader':
        return 42
    return Upload(name, method, headers)


def get(output, uri, **request):
    name = request['groups'][0]
    if name == '_list':
        output.AnswerBuffer(json.dumps({'uploads': sorted(uploads), 'stats': stats}), 'application/json')
    elif name in uploads:
        output.AnswerBuffer(json.dumps(uploads[name]), 'application/json')
    else:
        output.SendHttpStatusCode(404)


def delete(output, uri, **request):
    uploads.pop(request['groups'][0], None)
    output.AnswerBuffer('deleted', 'text/plain')


orthanc.RegisterChunkedRestCallback('/uploads/(.*)', getHandler=get, postHandler=factory,
                                    deleteHandler=delete, putHandler=factory)
orthanc.RegisterChunkedRestCallback('/post-only', postHandler=factory)
