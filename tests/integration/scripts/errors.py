# SPDX-License-Identifier: GPL-3.0-or-later
# Callbacks that fail in the ways a script can fail; the server must keep
# serving, log each traceback once and answer clear HTTP errors.
import orthanc

CHANGES_SEEN = []


def Raise(output, uri, **request):
    raise RuntimeError('boom-rest-4242')


def RaiseOrthanc(output, uri, **request):
    raise orthanc.OrthancException(orthanc.ErrorCode.UNKNOWN_RESOURCE, 'x-resource-gone')


def Silent(output, uri, **request):
    pass


def Ok(output, uri, **request):
    output.AnswerBuffer('still-ok', 'text/plain')


def Changes(output, uri, **request):
    output.AnswerBuffer(' '.join(CHANGES_SEEN), 'text/plain')


def OnChange(changeType, level, resource):
    CHANGES_SEEN.append(str(changeType))
    if changeType == orthanc.ChangeType.NEW_INSTANCE:
        print('OnChange about to raise for %s' % resource)
        raise ZeroDivisionError('boom-change-%s' % resource)
    elif changeType == orthanc.ChangeType.NEW_STUDY:
        print('OnChange saw a new study %s' % resource)


orthanc.RegisterRestCallback('/errors/raise', Raise)
orthanc.RegisterRestCallback('/errors/raise-orthanc', RaiseOrthanc)
orthanc.RegisterRestCallback('/errors/silent', Silent)
orthanc.RegisterRestCallback('/errors/ok', Ok)
orthanc.RegisterRestCallback('/errors/changes', Changes)
orthanc.RegisterOnChangeCallback(OnChange)
