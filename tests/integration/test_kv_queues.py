# SPDX-License-Identifier: GPL-3.0-or-later
"""Key-value stores and queues kept in Orthanc's database (SDK 1.12.8, the
reservations 1.12.10) and SetStableStatus (1.12.9), with the official 7.1
names and results, plus the Python iteration protocol on
KeysValuesIterator. Runs where Orthanc has them (sid's 1.13.0); on older
Orthanc test_sdk_versions.py checks that each name refuses."""

import json
import time

import pytest

import dicomgen
import harness

pytestmark = pytest.mark.skipif(harness.orthanc_version() < (1, 12, 8),
                                reason='key-value stores and queues need Orthanc 1.12.8 (this is %s)'
                                % harness.orthanc_version_text())


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    # Nothing becomes stable by itself during the test: SetStableStatus does it.
    return orthanc_factory(orthanc_factory.script('kv_queues.py'), config={'StableAge': 3600})


def get(srv, uri):
    status, _, body = srv.get(uri)
    assert status == 200, body
    return json.loads(body)


def test_store_get_delete_and_iterate(srv):
    seen = get(srv, '/kv/values?store=opy-test-1')
    assert seen['a'] == 'premi\u00e8re'.encode().hex()
    assert seen['b'] == 'second, replaced'
    assert seen['c'] == b'\x00\xff binary'.hex()
    assert seen['absent'] is None and seen['other_store'] is None
    assert seen['types'] == ['bytes']
    expected = [['a', 'premi\u00e8re'.encode().hex()], ['b', b'second, replaced'.hex()],
                ['c', b'\x00\xff binary'.hex()]]
    assert seen['loop'] == [e + [e[0]] for e in expected]          # lexicographic, the long name too
    assert seen['next_at_end'] == [False, False] and seen['next_after_for'] == []
    assert seen['for'] == expected and seen['iter_is_self'] is True
    assert seen['empty_store'] == []
    assert seen['after_delete'] == ['a', 'c'] and seen['b_after_delete'] is None


def test_values_are_in_the_database(srv):
    # Another request (another thread, a new iterator) sees the same store.
    get(srv, '/kv/values?store=opy-test-2')
    again = get(srv, '/kv/values?store=opy-test-2')
    assert again['after_delete'] == ['a', 'c']


def test_queue_fifo_and_lifo(srv):
    seen = get(srv, '/kv/queue?queue=opy-q-1')
    assert seen == {'size': 4, 'front': 'one', 'back': 'four', 'size_after': 2,
                    'rest': ['two', 'three', None], 'size_empty': 0, 'other_queue': 0}


@pytest.mark.skipif(harness.orthanc_version() < (1, 12, 10), reason='reservations need Orthanc 1.12.10')
def test_reserve_release_and_acknowledge(srv):
    q = 'opy-q-reserve'
    assert get(srv, '/kv/reserve?queue=%s&step=put&value=job-1' % q) == 1
    value, value_id, size = get(srv, '/kv/reserve?queue=%s&step=reserve&timeout=1' % q)
    assert value == 'job-1' and isinstance(value_id, int)
    # reserved: another consumer sees nothing
    assert get(srv, '/kv/reserve?queue=%s&step=reserve&timeout=1' % q)[:2] == [None, None]
    # not acknowledged within 1 s: back in the queue
    deadline = time.monotonic() + 10
    while True:
        again = get(srv, '/kv/reserve?queue=%s&step=reserve&timeout=30' % q)
        if again[0] is not None or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert again[0] == 'job-1', again
    # acknowledged: gone for good
    result, size = get(srv, '/kv/reserve?queue=%s&step=ack&id=%d' % (q, again[1]))
    assert result is None and size == 0
    assert get(srv, '/kv/reserve?queue=%s&step=reserve&timeout=1' % q)[:2] == [None, None]


def test_bad_arguments(srv):
    seen = get(srv, '/kv/errors')
    for case in ('store_int', 'get_int_key', 'get_missing_arg', 'dequeue_str_origin',
                 'size_list', 'iterator_ctor'):
        assert seen[case][0] == 'TypeError', (case, seen[case])
    assert seen['get_nul'] == ['ValueError', 'key must not contain a NUL character'], seen['get_nul']
    assert seen['store_none'][0] in ('TypeError', 'ok'), seen['store_none']
    assert seen['dequeue_bad_origin'][0] == 'ValueError', seen['dequeue_bad_origin']
    assert seen['reserve_zero'] == ['ValueError', 'ReserveQueueValue(): releaseTimeout must be at least 1 second'] \
        or harness.orthanc_version() < (1, 12, 10)
    assert seen['reserve_negative'][0] in ('OverflowError', 'NotImplementedError'), seen['reserve_negative']
    if 'ack_negative' in seen:
        assert seen['ack_negative'][0] in ('OverflowError', 'NotImplementedError'), seen['ack_negative']
    assert seen['stable_bad'][0] in ('ValueError', 'NotImplementedError'), seen['stable_bad']
    assert srv.get('/system')[0] == 200


@pytest.mark.skipif(harness.orthanc_version() < (1, 12, 9), reason='SetStableStatus needs Orthanc 1.12.9')
def test_set_stable_status(srv):
    instance = srv.upload(dicomgen.make_instance(patient_id='KV-STABLE'))
    series = srv.get_json('/instances/%s' % instance['ID'])['ParentSeries']
    assert srv.get_json('/series/%s' % series)['IsStable'] is False
    assert get(srv, '/kv/stable?id=%s&status=STABLE' % series) == [0, 1]
    assert srv.get_json('/series/%s' % series)['IsStable'] is True
    # forced stable: the usual change is fired
    deadline = time.monotonic() + 10
    while [harness_change for harness_change in get(srv, '/kv/changes') if harness_change[1] == series] == [] \
            and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [c for c in get(srv, '/kv/changes') if c[1] == series], get(srv, '/kv/changes')
    assert get(srv, '/kv/stable?id=%s&status=STABLE' % series) == [0, 0]      # already stable
    assert get(srv, '/kv/stable?id=%s&status=UNSTABLE' % series) == [0, 1]
    assert srv.get_json('/series/%s' % series)['IsStable'] is False
    # Orthanc 1.13.0 accepts an identifier it does not know (nothing changes)
    seen = get(srv, '/kv/errors')
    assert seen['stable_unknown'] == ['ok', '(0, 0)'], seen['stable_unknown']


@pytest.mark.skipif(harness.orthanc_version() < (1, 12, 10), reason='the example reserves values (1.12.10)')
def test_example_queues_and_kvs(orthanc_factory):
    srv = orthanc_factory(harness.REPO / 'examples' / 'queues_and_kvs.py')
    dicom = [dicomgen.make_instance(patient_id='KV-EX-%d' % i) for i in range(3)]
    ids = [srv.upload(d)['ID'] for d in dicom]
    for iid, d in zip(ids, dicom):
        srv.wait_out(harness.bare(r'Measured instance %s: %d bytes' % (iid, len(d))))
    assert get(srv, '/measured') == {'pending': 0, 'sizes': {i: len(d) for i, d in zip(ids, dicom)}}
    assert srv.stop() == 0
