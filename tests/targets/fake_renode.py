"""A stand-in for Renode's monitor, run by a launcher script as its child (as mono is under the
real `renode` launcher). It reads monitor commands from stdin like Renode does.

FAKE_RENODE_MODE=error: prints Renode's error for a platform that cannot be loaded.
FAKE_RENODE_MODE=serve: opens the UART socket named in the .resc and sends the ready line when
`start` arrives — but only to a client connected before `start` (bytes sent to nobody are lost).
Either way it writes its pid to $FAKE_RENODE_PID and ignores `quit` and SIGTERM, so only a kill
of the whole process group ends it.
"""

import os
import re
import signal
import socket
import sys
from pathlib import Path

signal.signal(signal.SIGTERM, signal.SIG_IGN)
Path(os.environ["FAKE_RENODE_PID"]).write_text(str(os.getpid()))
Path(os.environ["FAKE_RENODE_PID"] + ".tmpdir").write_text(os.environ.get("TMPDIR", ""))
mode = os.environ.get("FAKE_RENODE_MODE", "serve")
server = client = None
print("Renode, version 0.0-fake", flush=True)
for line in sys.stdin:
    command = line.strip()
    print(f"(monitor) {command}", flush=True)
    if command.startswith("include @"):
        script = Path(command.removeprefix("include @")).read_text()
        if mode == "error":
            print("There was an error executing command 'machine LoadPlatformDescription @board.repl'")
            print("Could not find file 'board.repl'.", flush=True)
            continue
        port = int(re.search(r"CreateServerSocketTerminal (\d+)", script).group(1))
        server = socket.create_server(("127.0.0.1", port))
    elif command == "start" and server is not None:
        server.settimeout(0)  # a client that connected before `start` waits in the backlog
        try:
            client, _ = server.accept()
            client.sendall(b"TINYHIL READY\n")
        except BlockingIOError:
            print("no client at start: the ready line went to nobody", flush=True)
signal.pause()  # stdin closed: a real Renode would quit; this one waits to be killed
