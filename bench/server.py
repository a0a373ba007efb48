"""A loopback nginx that answers Codat's access-token paths, for the benchmark.

Everything lives in a fresh temp dir (config, pid file, logs, temp paths, the
self-signed certificate), nginx runs in the foreground (`daemon off`) as a
child of this process and is stopped by its own pid. Three listeners on
127.0.0.1, each on a free port:

  http      plain HTTP, keep-alive
  https     TLS with a self-signed certificate (made here with the openssl CLI);
            the certificate itself is the CA bundle clients verify against
  delay     plain HTTP, every response held back 1 ms (echo module's echo_sleep)

With latency_ms=(20, 50, 200) (the latency scenario, bench/latency_bench.py) it adds, for each
delay D, two TLS listeners whose every answer is held back D ms: `h2-D` offers HTTP/2 and
HTTP/1.1 by ALPN, `h1-D` HTTP/1.1 only. Those listeners write an access log
(`latency_log`, one line per request: nginx's connection serial number, the port, the protocol
and the URI), from which count_connections() tells how many connections (= TLS handshakes) a
run opened.

Paths (any company id):
  GET /companies/{id}/connectionManagement/accessToken -> {"accessToken": "..."}
  GET /companies/{id}/accessToken -> {"accessToken": "...", "expiresIn": 86400, "tokenType": "Bearer"}
both with Content-Type: application/json.

Run standalone to poke at it by hand: `python bench/server.py [--latency]` (Ctrl-C stops it).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time

TOKEN = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.benchmark-token.c2lnbmF0dXJl"
CM_BODY = '{"accessToken":"%s"}' % TOKEN
COMPANY_BODY = '{"accessToken":"%s","expiresIn":86400,"tokenType":"Bearer"}' % TOKEN

ECHO_MODULE_CANDIDATES = [
    "/usr/lib/nginx/modules/ngx_http_echo_module.so",
    "/usr/share/nginx/modules/ngx_http_echo_module.so",
]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _nginx_bin() -> str:
    for cand in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if cand and os.path.exists(cand):
            return cand
    raise RuntimeError("nginx not found: apt-get install -y nginx-light libnginx-mod-http-echo")


def _echo_module() -> str:
    for cand in ECHO_MODULE_CANDIDATES:
        if os.path.exists(cand):
            return cand
    raise RuntimeError("nginx echo module not found: apt-get install -y libnginx-mod-http-echo")


def _token_locations(delay: bool, delay_s: float = 0.001) -> str:
    """The two token locations; with delay, answered by the echo module after delay_s seconds."""
    out = []
    for pattern, body in (
        (r"^/companies/[^/]+/connectionManagement/accessToken$", CM_BODY),
        (r"^/companies/[^/]+/accessToken$", COMPANY_BODY),
    ):
        if delay:
            action = "echo_sleep %g;\n            echo -n '%s';" % (delay_s, body)
        else:
            action = "return 200 '%s';" % body
        out.append(
            """        location ~ %s {
            default_type application/json;
            %s
        }"""
            % (pattern, action)
        )
    out.append("        location / { return 404; }")
    return "\n".join(out)


class NginxServer:
    """Context manager: start nginx on loopback, yield the base URLs, stop it."""

    def __init__(self, workdir: str | None = None, latency_ms: tuple = ()):
        self.dir = workdir or tempfile.mkdtemp(prefix="codat-bench-nginx-")
        self.proc: subprocess.Popen | None = None
        self.ports = {"http": _free_port(), "https": _free_port(), "delay": _free_port()}
        self.latency_ms = tuple(latency_ms)
        for ms in self.latency_ms:
            self.ports[f"h2-{ms}"] = _free_port()
            self.ports[f"h1-{ms}"] = _free_port()
        self.ca_path = os.path.join(self.dir, "cert.pem")
        self.key_path = os.path.join(self.dir, "key.pem")
        self.latency_log = os.path.join(self.dir, "latency_access.log")

    @property
    def urls(self) -> dict:
        return {
            name: ("http" if name in ("http", "delay") else "https") + "://127.0.0.1:%d" % port
            for name, port in self.ports.items()
        }

    def _latency_servers(self) -> str:
        """One TLS server block per (delay, protocol): `ssl http2` offers h2 by ALPN, plain `ssl` only
        HTTP/1.1. Unbuffered access log, so that a run's lines are on disk as soon as it ends."""
        out = []
        for ms in self.latency_ms:
            for proto, listen_opts in (("h2", "ssl http2"), ("h1", "ssl")):
                out.append(f"""    server {{
        listen 127.0.0.1:{self.ports[f'{proto}-{ms}']} {listen_opts};
        ssl_certificate {self.ca_path};
        ssl_certificate_key {self.key_path};
        ssl_protocols TLSv1.2 TLSv1.3;
        access_log {self.latency_log} latency;
{_token_locations(True, ms / 1000.0)}
    }}""")
        return "\n".join(out)

    def count_connections(self, tag: str, since: int = 0) -> dict:
        """Connections that served requests whose URI contains `tag`, read from the latency access log
        from byte offset `since`: {"connections": n, "requests": n, "protocols": {...}}."""
        conns, requests, protocols = set(), 0, {}
        try:
            with open(self.latency_log, "rb") as f:
                f.seek(since)
                data = f.read().decode("ascii", "replace")
        except OSError:
            data = ""
        for line in data.splitlines():
            parts = line.split(" ")
            if len(parts) != 4 or tag not in parts[3]:
                continue
            conns.add(parts[0])
            requests += 1
            protocols[parts[2]] = protocols.get(parts[2], 0) + 1
        return {"connections": len(conns), "requests": requests, "protocols": protocols}

    def log_offset(self) -> int:
        try:
            return os.path.getsize(self.latency_log)
        except OSError:
            return 0

    def _make_cert(self) -> None:
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout", self.key_path, "-out", self.ca_path,
            ],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

    def _write_conf(self) -> str:
        d = self.dir
        user = "user root;" if os.geteuid() == 0 else ""
        conf = f"""# generated by bench/server.py; lives and dies with this temp dir
load_module {_echo_module()};
{user}
worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 4096; }}
worker_rlimit_nofile 8192;
http {{
    access_log off;
    log_format latency '$connection $server_port $server_protocol $request_uri';
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    keepalive_requests 100000000;
    keepalive_timeout 600s;
    tcp_nodelay on;
    server_tokens off;
    server {{
        listen 127.0.0.1:{self.ports['http']};
{_token_locations(False)}
    }}
    server {{
        listen 127.0.0.1:{self.ports['https']} ssl;
        ssl_certificate {self.ca_path};
        ssl_certificate_key {self.key_path};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache shared:SSL:1m;
{_token_locations(False)}
    }}
    server {{
        listen 127.0.0.1:{self.ports['delay']};
{_token_locations(True)}
    }}
{self._latency_servers()}
}}
"""
        path = os.path.join(d, "nginx.conf")
        with open(path, "w") as f:
            f.write(conf)
        return path

    def _wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        pending = set(self.ports.values())
        while pending:
            if self.proc.poll() is not None:
                raise RuntimeError("nginx exited: " + self.error_log())
            for port in list(pending):
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        pending.discard(port)
                except OSError:
                    pass
            if pending and time.monotonic() > deadline:
                raise RuntimeError("nginx did not listen in time: " + self.error_log())
            if pending:
                time.sleep(0.05)

    def error_log(self) -> str:
        out = []
        for name in ("stderr.log", "error.log"):
            try:
                with open(os.path.join(self.dir, name)) as f:
                    out.append(f.read()[-2000:])
            except OSError:
                pass
        return "\n".join(out) or "(no error log)"

    def start(self) -> "NginxServer":
        self._make_cert()
        conf = self._write_conf()
        with open(os.path.join(self.dir, "stderr.log"), "wb") as err:
            self.proc = subprocess.Popen(
                [_nginx_bin(), "-p", self.dir, "-c", conf],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
            )
        self._wait_ready()
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM to the master (our child): fast shutdown
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "NginxServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.cleanup()


def nginx_version() -> str:
    try:
        r = subprocess.run([_nginx_bin(), "-v"], capture_output=True, text=True)
        return (r.stderr or r.stdout).strip().split("/", 1)[-1]
    except Exception:
        return "?"


if __name__ == "__main__":
    import signal
    import sys

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the with-block stops nginx
    with NginxServer(latency_ms=(20, 50, 200) if "--latency" in sys.argv else ()) as srv:
        print("nginx up in", srv.dir)
        for k, v in srv.urls.items():
            print(f"  {k:6s} {v}/companies/abc/connectionManagement/accessToken")
        print("  CA bundle:", srv.ca_path)
        try:
            while srv.proc.poll() is None:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
