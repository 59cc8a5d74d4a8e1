"""Headless Chromium driven through chromedriver's W3C WebDriver HTTP interface, with
the standard library only (loopback, a port of our own, a fresh profile)."""
import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import urllib.request

from rtsock_emul.util.procs import end
from rtsock_emul.util.wait import wait_until

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--force-device-scale-factor=1"]


def find():
    """(browser, chromedriver) paths, or (None, reason)."""
    browser = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    driver = shutil.which("chromedriver") or (os.path.join(os.environ["CHROMEWEBDRIVER"], "chromedriver")
                                              if os.environ.get("CHROMEWEBDRIVER") else None)
    if browser is None:
        return None, "no Chromium here (Debian: apt install chromium chromium-driver; .ci/run installs them)"
    if driver is None or not os.access(driver, os.X_OK):
        return None, "no chromedriver here (Debian: apt install chromium-driver; .ci/run installs it)"
    return (browser, driver), None


class Browser:
    def __init__(self, width=1280, height=800):
        (self.binary, driver), why = find()
        if why:
            raise RuntimeError(why)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.profile = tempfile.mkdtemp(prefix="timeline-chromium-")
        self.proc = subprocess.Popen([driver, f"--port={self.port}", "--allowed-ips=127.0.0.1"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self._ready, 20, what="chromedriver to answer")
        caps = {"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
            "binary": self.binary,
            "args": FLAGS + [f"--user-data-dir={self.profile}", f"--window-size={width},{height}"]}}}}
        self.session = self._call("POST", "/session", caps)["sessionId"]

    def _ready(self):
        try:
            return (self._call("GET", "/status") or {}).get("ready", False)
        except OSError:
            return False

    def _call(self, method, path, body=None):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read() or b"{}").get("value")

    def _s(self, method, path, body=None):
        return self._call(method, f"/session/{self.session}{path}", body)

    def open(self, path):
        self._s("POST", "/url", {"url": "file://" + os.path.abspath(path)})

    def js(self, script, *args):
        return self._s("POST", "/execute/sync", {"script": script, "args": list(args)})

    def screenshot(self, path):
        with open(path, "wb") as fh:
            fh.write(base64.b64decode(self._s("GET", "/screenshot")))

    def close(self):
        try:
            self._s("DELETE", "")
        except OSError:
            pass
        end(self.proc)
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
