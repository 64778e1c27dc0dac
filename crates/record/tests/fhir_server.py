"""Starts sekmet-fhir, a FHIR R4 server we did not write (PyPI), for the
record tests: binds a port the OS picks, prints it, then serves on that
very socket (no other process can take the port in between). Settings
come from SEKMET_CONFIG (its simulator off) and SEKMET_DB (a fresh file)."""
import os
import socket

import uvicorn

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.bind(("127.0.0.1", 0))
sock.listen(128)
port = sock.getsockname()[1]
os.environ["SEKMET_BASE_URL"] = f"http://127.0.0.1:{port}/fhir"
os.environ["SEKMET_PORT"] = str(port)
print(f"listening {port}", flush=True)
config = uvicorn.Config("sekmet.main:app_factory", factory=True, log_level="warning")
uvicorn.Server(config).run(sockets=[sock])
