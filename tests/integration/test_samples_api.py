# SPDX-License-Identifier: GPL-3.0-or-later
"""Samples of the documentation (verbatim scripts): inspecting the API,
looking up the DICOM dictionary, calling pydicom, the Excel report, and
extending Orthanc Explorer."""

import io
import re

import pytest

import dicomgen
import harness


def test_inspect_api(orthanc_factory):
    srv = orthanc_factory(orthanc_factory.script('inspect_api.py'), name='inspect')
    # the script prints at import: the lines are on stdout once Orthanc serves
    text = srv.out_text()
    messages = text.splitlines()
    assert 'Function ComputeMd5():' in messages
    assert 'Function RegisterRestCallback():' in messages
    assert 'Class DicomInstance:' in messages
    assert 'Class OrthancException:' in messages
    assert any(m.startswith('  - Method GetInstanceSize(): ') for m in messages), messages[:80]
    assert any(m.startswith('  - Method AnswerBuffer(): ') for m in messages)
    assert '  - Enumeration value STABLE_STUDY: 9' in messages or \
        any(re.fullmatch(r'  - Enumeration value STABLE_STUDY: \d+', m) for m in messages)
    # the documentation of a generated function: its Doxygen brief

    assert 'Compute an MD5 hash.' in text[text.find('Function ComputeMd5():'):][:400]


def test_lookup_dictionary(orthanc_factory):
    srv = orthanc_factory(orthanc_factory.script('lookup_dictionary.py'), name='dictionary')
    text = srv.log_text()
    first = re.search(harness.line(r'Entry in the dictionary: \{', 'W')[:-len(r'\s*$')] + r'\n', text,
                      re.MULTILINE)
    assert first, text[-3000:]
    assert text[first.end():].startswith('    "Element": 32,\n'
                                         '    "Group": 16,\n'
                                         '    "MaxMultiplicity": 1,\n'
                                         '    "MinMultiplicity": 1,\n'
                                         '    "ValueRepresentation": 11\n'
                                         '}\n')
    srv.wait_log(harness.line('Name of the value representation: LO', 'W'))


@pytest.fixture(scope='module')
def pydicom_srv(orthanc_factory):
    srv = orthanc_factory(orthanc_factory.script('pydicom_sample.py'), name='pydicom')
    srv.instance = srv.upload(dicomgen.make_instance(patient_id='PYDICOM-1'))['ID']
    return srv


def test_calling_pydicom(pydicom_srv):
    status, headers, body = pydicom_srv.get('/pydicom/%s' % pydicom_srv.instance)
    assert status == 200 and headers['content-type'].startswith('text/plain')
    text = body.decode()
    assert re.search(r"\(0010, ?0020\) Patient ID\s+LO: '?PYDICOM-1'?", text), text
    status, _, _ = pydicom_srv.post('/pydicom/%s' % pydicom_srv.instance)
    assert status == 405


def test_excel_report(orthanc_factory):
    srv = orthanc_factory(orthanc_factory.script('excel_report.py'), name='excel')
    srv.upload(dicomgen.make_instance(patient_id='XLS-1', patient_name='Excel^One',
                                      study_description='First XLS study'))
    srv.upload(dicomgen.make_instance(patient_id='XLS-2', patient_name='Excel^Two',
                                      study_description='Second XLS study'))
    status, headers, body = srv.get('/report.xls')
    assert status == 200 and headers['content-type'] == 'application/vnd.ms-excel'
    assert body[:8] == bytes.fromhex('d0cf11e0a1b11ae1')  # OLE2 compound file
    try:
        import xlrd
    except ImportError:
        assert b'F\x00i\x00r\x00s\x00t\x00' in body or b'First XLS study' in body
        return
    sheet = xlrd.open_workbook(file_contents=body).sheet_by_name('Studies')
    rows = sorted(tuple(sheet.row_values(i)) for i in range(sheet.nrows))
    assert rows == [('XLS-1', 'Excel^One', 'First XLS study'), ('XLS-2', 'Excel^Two', 'Second XLS study')]


def test_extend_orthanc_explorer(orthanc_factory):
    srv = orthanc_factory(orthanc_factory.script('explorer.py'), name='explorer')
    status, _, body = srv.get('/execute-python')
    assert status == 200 and re.fullmatch(rb'Python version: %s\.\d+' % re.escape(harness.python_version_text()).encode(), body), body
    # Orthanc 1.10.1 serves the plugins' JavaScript at /plugins/explorer.js,
    # which /app/explorer.html loads
    status, _, js = srv.get('/plugins/explorer.js')
    assert status == 200 and b"attr('id', 'sample-python-button')" in js
    status, _, html = srv.get('/app/explorer.html')
    assert status == 200 and b'../plugins/explorer.js' in html
