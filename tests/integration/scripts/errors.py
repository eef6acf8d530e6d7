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


def RaiseUnicode(output, uri, **request):
    raise RuntimeError('boom-\u00e9t\u00e9-\u2603')


class UnprintableError(Exception):
    def __str__(self):
        raise ValueError('cannot print me')


def RaiseUnprintable(output, uri, **request):
    raise UnprintableError()


def RaiseSystemExit(output, uri, **request):
    raise SystemExit(3)


def WrongSignature(output):
    output.AnswerBuffer('never', 'text/plain')


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
orthanc.RegisterRestCallback('/errors/unicode', RaiseUnicode)
orthanc.RegisterRestCallback('/errors/unprintable', RaiseUnprintable)
orthanc.RegisterRestCallback('/errors/system-exit', RaiseSystemExit)
orthanc.RegisterRestCallback('/errors/wrong-signature', WrongSignature)
orthanc.RegisterRestCallback('/errors/changes', Changes)
orthanc.RegisterOnChangeCallback(OnChange)
