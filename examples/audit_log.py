# SPDX-License-Identifier: GPL-3.0-or-later
# Audit logs (Orthanc 1.12.9 or newer): a REST route (POST) that deletes a
# study says who did it with EmitAuditLog; every plugin that listens gets the
# record, this script included. The handler runs on a plugin thread: the
# route never waits for it.
import json
import orthanc


def OnAuditLog(sourcePlugin, userId, resourceType, resourceId, action, logData):
    print('Audit: %s did %s on %s (%s, %s)' % (userId, action, resourceId, sourcePlugin,
                                               json.loads(logData)['reason']))


def DeleteStudy(output, uri, **request):
    study = request['groups'][0]
    user = request['headers'].get('x-user', 'anonymous')
    reason = json.loads(request['body'] or b'{}').get('reason', 'none given')
    orthanc.EmitAuditLog('audit-sample', user, orthanc.ResourceType.STUDY, study, 'delete',
                         json.dumps({'reason': reason}).encode())
    orthanc.RestApiDelete('/studies/%s' % study)
    output.AnswerBuffer('deleted\n', 'text/plain')


orthanc.RegisterAuditLogHandler(OnAuditLog)
orthanc.RegisterRestCallback('/audited/studies/(.*)/delete', DeleteStudy)
