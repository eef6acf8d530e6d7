# SPDX-License-Identifier: GPL-3.0-or-later
"""Samples of the documentation about images (verbatim scripts): creating
DICOM instances, conversions between Orthanc and PIL images, a thumbnail with
PIL, a mosaic of a series."""

import http.server
import io
import json
import threading

import numpy
import PIL.Image
import pydicom
import pytest

import dicomgen
import harness


def test_creating_dicom_instances(orthanc_factory):
    srv = orthanc_factory(orthanc_factory.script('create_dicom.py'), name='create', start=False)
    srv.extra_subst['SAMPLE_DCM'] = str(srv.workdir / 'sample.dcm')
    lena = PIL.Image.new('RGB', (48, 32))
    lena.putdata([(x * 5, y * 7, (x + y) % 256) for y in range(32) for x in range(48)])
    buf = io.BytesIO()
    lena.save(buf, format='PNG')
    srv.write_file('Lena.png', buf.getvalue())
    srv.start()
    srv.wait_out(harness.bare('Size of the frame: 48x32'))
    ds = pydicom.dcmread(str(srv.workdir / 'sample.dcm'))
    assert ds.PatientID == 'HELLO' and str(ds.PatientName) == 'WORLD'
    assert (ds.Rows, ds.Columns, ds.SamplesPerPixel) == (32, 48, 3)
    assert ds.pixel_array[5, 7].tolist() == [35, 35, 12]


def rgb_instance():
    ds = dicomgen.make_dataset(patient_id='LENA', rows=40, columns=60)
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = 'RGB'
    ds.PlanarConfiguration = 0
    pixels = numpy.zeros((40, 60, 3), dtype=numpy.uint8)
    pixels[:, :, 1] = 200
    ds.PixelData = pixels.tobytes()
    return dicomgen.to_bytes(ds)


class _Serve(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        data = self.server.payload
        self.send_response(200)
        self.send_header('Content-Type', 'application/dicom')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.server.hits += 1

    def log_message(self, *args):
        pass


def test_conversions_between_images(orthanc_factory):
    web = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Serve)
    web.payload = rgb_instance()
    web.hits = 0
    threading.Thread(target=web.serve_forever, daemon=True).start()
    try:
        url = 'http://127.0.0.1:%d/LenaTwiceWithFragments.dcm' % web.server_address[1]
        srv = orthanc_factory(orthanc_factory.script('image_conversions.py'), name='conversions',
                              subst={'LENA_URL': url})
        srv.wait_log(harness.line('Image successfully modified and uploaded!', 'W'), timeout=30)
        srv.wait_log(harness.line('Number of frames: 1', 'W'))
        assert web.hits == 1
        patients = srv.get_json('/patients?expand')
        hello = [p for p in patients if p['MainDicomTags'].get('PatientID') == 'HELLO']
        assert len(hello) == 1
        instances = srv.get_json('/patients/%s/instances' % hello[0]['ID'])
        assert len(instances) == 1
        status, _, png = srv.get('/instances/%s/preview' % instances[0]['ID'])
        image = PIL.Image.open(io.BytesIO(png)).convert('RGB')
        assert image.size == (60, 40)
        assert image.getpixel((30, 20)) == (255, 0, 0)  # the red cross
        assert image.getpixel((30, 5)) == (0, 200, 0)
    finally:
        web.shutdown()
        web.server_close()


def pillow_compatible(path, tmp_path):
    """The sample as the page gives it; on Pillow 10 and later (trixie, sid),
    which dropped Image.ANTIALIAS, with Image.Resampling.LANCZOS, the filter that
    ANTIALIAS named."""
    if hasattr(PIL.Image, 'ANTIALIAS'):
        return path
    copy = tmp_path / path.name
    copy.write_text(path.read_text().replace('Image.ANTIALIAS', 'Image.Resampling.LANCZOS'))
    return copy


def test_thumbnail(orthanc_factory, tmp_path):
    srv = orthanc_factory(pillow_compatible(orthanc_factory.script('thumbnail.py'), tmp_path),
                          name='thumbnail')
    instance = srv.upload(dicomgen.make_instance(rows=100, columns=80))['ID']
    status, _, body = srv.get('/pydicom/%s' % instance)
    assert status == 200
    image = PIL.Image.open(io.BytesIO(body))
    assert image.format == 'JPEG' and image.size[1] == 64 and 50 <= image.size[0] <= 52


def test_mosaic(orthanc_factory):
    srv = orthanc_factory(orthanc_factory.script('mosaic.py'), name='mosaic')
    study, series = dicomgen.new_uid(), dicomgen.new_uid()
    for i in range(5):
        ds = dicomgen.make_dataset(study_uid=study, series_uid=series, instance_number=i + 1,
                                   rows=10, columns=12, seed=i)
        ds.ImagePositionPatient = [0, 0, float(i)]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        series_id = srv.upload(dicomgen.to_bytes(ds))['ParentSeries']
    status, headers, body = srv.get('/series/%s/mosaic' % series_id)
    assert status == 200 and headers['content-type'] == 'image/png'
    image = PIL.Image.open(io.BytesIO(body))
    assert image.format == 'PNG' and image.mode == 'L'
    assert image.size == (3 * 12, 3 * 10)  # side = ceil(sqrt(5)) = 3
