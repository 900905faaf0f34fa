"""A minimal QMP client: QEMU's JSON monitor over a UNIX socket, one command at a time.

`Qmp(path, timeout)` connects, reads the greeting and leaves capability negotiation; `call`
gives the whole reply ({'return': ...} or {'error': {...}}), `execute` the return value or
a RuntimeError, `hmp` runs a human monitor command (`info qtree`). Events are skipped.
"""
import json
import socket


class Qmp:
    def __init__(self, path, timeout):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.settimeout(timeout)
            self.sock.connect(path)
            self.reader = self.sock.makefile('r', encoding='utf-8', newline='\n')
            greeting = self.reader.readline()
            if not greeting:
                raise EOFError('QMP closed before its greeting')
            self.greeting = json.loads(greeting)
            self.execute('qmp_capabilities')
        except BaseException:
            self.sock.close()
            raise

    def call(self, command, arguments=None):
        """The whole reply: {'return': ...} or {'error': {...}}."""
        message = {'execute': command}
        if arguments is not None:
            message['arguments'] = arguments
        self.sock.sendall((json.dumps(message) + '\n').encode())
        while True:
            line = self.reader.readline()
            if not line:
                raise EOFError('QMP closed during %s' % command)
            reply = json.loads(line)
            if 'return' in reply or 'error' in reply:
                return reply

    def execute(self, command, arguments=None):
        reply = self.call(command, arguments)
        if 'error' in reply:
            raise RuntimeError('%s: %s' % (command, reply['error'].get('desc')))
        return reply['return']

    def hmp(self, line):
        return self.execute('human-monitor-command', {'command-line': line})

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
