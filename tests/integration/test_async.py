# SPDX-License-Identifier: GPL-3.0-or-later
"""async callbacks (docs/callbacks.md, "async def callbacks"): an `async def`
callable is accepted wherever a callable is registered; it runs on the
plugin's one event loop, in its own thread ("orthanc-asyncio", started on
first use, stopped at Orthanc's stop), while the calling Orthanc thread
waits without the GIL:

- `await asyncio.sleep()` in a route blocks neither the other requests of
  that route nor the other routes;
- an exception gives the usual HTTP error and log line (script named);
- change callbacks, HTTP filters and callable objects with an async
  __call__ work too;
- Orthanc stops cleanly with the loop running.
"""

import concurrent.futures
import json
import time

import pytest

SCRIPT = '''
import asyncio, json, threading
import orthanc

changes = []

async def slow(output, uri, **request):
    await asyncio.sleep(1.0)
    output.AnswerBuffer(threading.current_thread().name, "text/plain")

def fast(output, uri, **request):
    output.AnswerBuffer("fast", "text/plain")

async def fails(output, uri, **request):
    await asyncio.sleep(0)
    raise ValueError("async failure")

async def on_change(change_type, level, resource):
    await asyncio.sleep(0)
    changes.append(change_type)

def report(output, uri, **request):
    output.AnswerBuffer(json.dumps([c == orthanc.ChangeType.ORTHANC_STARTED for c in changes]),
                        "application/json")

async def http_filter(uri, **request):
    await asyncio.sleep(0)
    return uri != "/async/denied"

class Handler:
    async def __call__(self, output, uri, **request):
        await asyncio.sleep(0)
        output.AnswerBuffer("object " + request["method"], "text/plain")

def denied(output, uri, **request):
    output.AnswerBuffer("should not be reached", "text/plain")

orthanc.RegisterRestCallback("/async/slow", slow)
orthanc.RegisterRestCallback("/async/fast", fast)
orthanc.RegisterRestCallback("/async/fails", fails)
orthanc.RegisterRestCallback("/async/changes", report)
orthanc.RegisterRestCallback("/async/object", Handler())
orthanc.RegisterRestCallback("/async/denied", denied)
orthanc.RegisterOnChangeCallback(on_change)
orthanc.RegisterIncomingHttpRequestFilter(http_filter)
'''


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    return orthanc_factory(SCRIPT, script_name='async_plugin.py')


def test_sleeping_route_blocks_nothing(srv):
    assert srv.get('/async/slow')[2] == b'orthanc-asyncio'     # warm-up, and where it ran
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        t0 = time.monotonic()
        slow = [ex.submit(srv.get, '/async/slow') for _ in range(3)]
        time.sleep(0.2)
        t_fast = time.monotonic()
        assert srv.get('/async/fast')[2] == b'fast'
        fast_took = time.monotonic() - t_fast
        answers = [f.result()[2] for f in slow]
        total = time.monotonic() - t0
    assert answers == [b'orthanc-asyncio'] * 3
    assert fast_took < 0.5, fast_took          # while three coroutines sleep
    assert total < 2.0, total                  # three 1 s sleeps at once, not one after another


def test_exception(srv):
    status, _, body = srv.get('/async/fails')
    assert status == 500
    assert json.loads(body)['Details'] == 'ValueError: async failure'
    m = srv.wait_log(r'OPY0010 Exception in REST callback /async/fails \(GET /async/fails\) '
                     r'\(script async_plugin\.py\):')
    tail = srv.log_text()[m.end():]
    assert 'in fails' in tail and 'ValueError: async failure' in tail


def test_change_callback_filter_and_object(srv):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and True not in json.loads(srv.get('/async/changes')[2]):
        time.sleep(0.1)
    assert True in json.loads(srv.get('/async/changes')[2])   # ChangeType.ORTHANC_STARTED
    assert srv.get('/async/denied')[0] == 403
    assert srv.get('/async/object')[2] == b'object GET'


def test_stop_with_the_loop_running(srv):
    t0 = time.monotonic()
    assert srv.stop() == 0
    assert time.monotonic() - t0 < 10
    assert srv.count_log(r'OPY00(14|22|24|49)') == 0


def test_loop_started_on_first_use(orthanc_factory):
    script = '''
import asyncio, threading
import orthanc

def names():
    return ",".join(sorted(t.name for t in threading.enumerate() if t.name == "orthanc-asyncio"))

async def coro(output, uri, **request):
    output.AnswerBuffer("inside:" + names(), "text/plain")

orthanc.RegisterRestCallback("/threads", lambda output, uri, **r: output.AnswerBuffer("threads:" + names(), "text/plain"))
orthanc.RegisterRestCallback("/coro", coro)
'''
    srv = orthanc_factory(script)
    assert srv.get('/threads')[2] == b'threads:'
    assert srv.get('/coro')[2] == b'inside:orthanc-asyncio'
    assert srv.get('/threads')[2] == b'threads:orthanc-asyncio'
    assert srv.stop() == 0


HANDLERS = '''
import asyncio, datetime, json, threading
import orthanc

T0 = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
where = set()


def note():
    where.add(threading.current_thread().name)


class AsyncJob:
    def __init__(self):
        self.steps = 0

    async def step(self):
        await asyncio.sleep(0.01)
        note()
        self.steps += 1
        return orthanc.JobStepStatus.SUCCESS if self.steps == 3 else orthanc.JobStepStatus.CONTINUE

    async def get_content(self):
        await asyncio.sleep(0)
        return {'steps': self.steps}

    async def get_progress(self):
        return self.steps / 3.0


class AsyncCollection:
    async def is_existing_folder(self, path):
        await asyncio.sleep(0)
        note()
        return path == []

    async def list_folder(self, path):
        await asyncio.sleep(0)
        return [{'name': 'hello.txt', 'size': 5, 'mime_type': 'text/plain', 'date': T0}] if path == [] else None

    async def retrieve_file(self, path):
        await asyncio.sleep(0)
        note()
        return (b'hello', 'text/plain', T0) if path == ['hello.txt'] else None

    async def store_file(self, path, data):
        return False

    async def create_folder(self, path):
        return False

    async def delete_item(self, path):
        return False


class AsyncUpload:
    def __init__(self):
        self.size = 0

    async def add_chunk(self, data):
        await asyncio.sleep(0)
        note()
        self.size += len(data)

    async def execute(self, output):
        await asyncio.sleep(0)
        output.AnswerBuffer('received %d' % self.size, 'text/plain')


async def upload_factory(uri, method, groups, headers):
    await asyncio.sleep(0)
    return AsyncUpload()


def submit(output, uri, **request):
    output.AnswerBuffer(orthanc.CreateJob(AsyncJob(), 'AsyncJob').SubmitJob(0), 'text/plain')


def report(output, uri, **request):
    output.AnswerBuffer(json.dumps(sorted(where)), 'application/json')


orthanc.RegisterRestCallback('/async/job', submit)
orthanc.RegisterRestCallback('/async/where', report)
orthanc.RegisterWebDavCollection('/asyncdav', AsyncCollection())
orthanc.RegisterChunkedRestCallback('/async/upload', postHandler=upload_factory)
'''


@pytest.fixture(scope='module')
def handlers(orthanc_factory):
    return orthanc_factory(HANDLERS, script_name='async_handlers.py')


def test_async_job_methods(handlers):
    job = handlers.post('/async/job', b'')[2].decode()
    deadline = time.monotonic() + 20
    while True:
        info = handlers.get_json('/jobs/' + job)
        if info['State'] in ('Success', 'Failure') or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert info['State'] == 'Success' and info['Content'] == {'steps': 3}, info


def test_async_webdav_collection(handlers):
    status, _, body = handlers.get('/asyncdav/hello.txt')
    assert (status, body) == (200, b'hello')
    status, _, body = handlers.request('PROPFIND', '/asyncdav/', headers={'Depth': '1'})
    assert status == 207 and b'hello.txt' in body, (status, body[:300])


def test_async_chunked_reader(handlers):
    status, _, body = handlers.post('/async/upload', b'x' * 100000)
    assert (status, body) == (200, b'received 100000')
    assert json.loads(handlers.get('/async/where')[2]) == ['orthanc-asyncio']


def test_no_asyncio_import_without_async_callbacks(orthanc_factory):
    # importing asyncio costs tens of milliseconds at start-up (and inspect,
    # which Python 3.14's logging imports anyway): plain callbacks are told
    # apart from coroutine functions without them
    srv = orthanc_factory(
        'import sys, json, orthanc\n'
        'def route(output, uri, **request):\n'
        '    output.AnswerBuffer(json.dumps(["asyncio" in sys.modules, "inspect" in sys.modules]),\n'
        '                        "application/json")\n'
        'class Obj:\n'
        '    def method(self, output, uri, **request):\n'
        '        route(output, uri, **request)\n'
        'orthanc.RegisterRestCallback("/imports", route)\n'
        'orthanc.RegisterRestCallback("/imports-method", Obj().method)\n'
        'orthanc.RegisterOnChangeCallback(lambda *args: None)\n',
        script_name='no_async.py')
    assert srv.get_json('/imports')[0] is False
    assert srv.get_json('/imports-method')[0] is False
