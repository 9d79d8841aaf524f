"""A service with a CLOSE_WAIT leak, for `systemd-run --unit=leaky`: it accepts N connections on
loopback, its clients hang up, and it never closes its side, so N sockets stay in CLOSE_WAIT.
SIGUSR1 is the fix: it closes them all and keeps running.

usage: python3 leaky.py N
"""

import signal
import socket
import sys
import time

n = int(sys.argv[1])
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(n)
leaked = []
for _ in range(n):
    c = socket.create_connection(srv.getsockname())
    s, _ = srv.accept()
    c.close()  # the peer hangs up: s goes to CLOSE_WAIT, and nothing here closes it
    leaked.append(s)


def fix(signum, frame):
    for s in leaked:
        s.close()
    leaked.clear()
    print("closed every leaked socket", flush=True)


signal.signal(signal.SIGUSR1, fix)
print("holding %d sockets in CLOSE_WAIT" % n, flush=True)
while True:
    time.sleep(3600)
