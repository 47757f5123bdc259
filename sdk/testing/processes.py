"""A contributed long-running service (``backhaul serve NAME``) as a real subprocess.

For tests and benchmarks of UDP servers (RADIUS, the NetFlow collector): start the process
with the test app's environment plus plugin settings, wait until it holds its UDP port, read
its log, stop it (SIGTERM, then kill).
"""
from __future__ import annotations

import os
import socket
import subprocess
import time


def udp_port_taken(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something holds UDP ``port`` (a server, once it listens)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


class ServiceProcess:
    """``with ServiceProcess(app, "radius.server", ready_port=1812, plugin="radius",
    auth_port=1812) as p:`` — settings become ``BACKHAUL_PLUGIN_<PLUGIN>__<KEY>``."""

    def __init__(self, app, service: str, *, ready_port: int, plugin: str,
                 args: tuple[str, ...] = (), **settings):
        from . import app_environ

        prefix = f"BACKHAUL_PLUGIN_{plugin.upper()}__"
        self.env = app_environ(app, **{f"{prefix}{k.upper()}": str(v)
                                       for k, v in settings.items()})
        self.command = ["backhaul", "serve", service, *args]
        self.ready_port = ready_port
        self.proc: subprocess.Popen | None = None
        self.log_path = os.path.join(app.config["INSTANCE_PATH"],
                                     f"{service}-{ready_port}.log")

    def start(self, timeout: float = 30):
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(self.command, env=self.env, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.command[2]} exited: {self.output()}")
            if udp_port_taken(self.ready_port):
                return self
            time.sleep(0.1)
        raise RuntimeError(f"{self.command[2]} did not start: {self.output()}")

    def output(self) -> str:
        with open(self.log_path) as f:
            return f.read()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.log.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
