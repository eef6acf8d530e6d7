# SPDX-License-Identifier: GPL-3.0-or-later
"""The sample scripts under scripts/ are the documentation's, verbatim except
for the @PLACEHOLDERS@ (ports, paths, loop count) that tests must choose."""

import pytest

import harness
import seedcheck

# placeholder -> the value printed in the documentation
DOC_VALUES = {'@SAMPLE_DCM@': '/tmp/sample.dcm', '@HTTP_PORT@': '8042', '@OUTER_LOOPS@': '1000',
              '@AUTHZ_PORT@': '8000',
              '@LENA_URL@': 'https://orthanc.uclouvain.be/hg/orthanc-tests/raw-file/Orthanc-1.11.0/'
                            'Database/LenaTwiceWithFragments.dcm'}

SAMPLES = ['hello.py', 'rest.py', 'override_rest.py', 'changes.py', 'autorouting.py',
           'scheduler.py', 'find_metadata.py', 'paging.py', 'catching_exceptions.py',
           'multiprocessing_pool.py', 'multiprocessing_token.py',
           'inspect_api.py', 'lookup_dictionary.py', 'create_dicom.py', 'image_conversions.py',
           'pydicom_sample.py', 'thumbnail.py', 'mosaic.py', 'excel_report.py', 'explorer.py',
           'stored_instance.py', 'http_filter.py', 'http_filter_authz.py']


@pytest.mark.parametrize('name', SAMPLES)
def test_sample_is_verbatim(name):
    seedcheck.seed_sample_check(name, DOC_VALUES)


def test_example_rest_is_the_sample():
    assert (harness.REPO / 'examples' / 'rest.py').read_text() == harness.script_text('rest.py')
