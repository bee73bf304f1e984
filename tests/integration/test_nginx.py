"""deploy/nginx/innolab.conf for real: the shipped site, with a self-signed certificate and
temporary paths, passes `nginx -t` and serves the app (gunicorn with gunicorn.conf.py)
over HTTPS: pages compressed (Brotli, gzip) and with nginx's request id, static files from disk
with their cache time, HTTP redirected to HTTPS, TLS 1.2 and 1.3 only, uploads over the limit
refused."""
from __future__ import annotations

import datetime
import ipaddress
import os
import re
import signal
import socket
import ssl
import subprocess
import time
import warnings
from pathlib import Path

import brotli
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from innolab import ROOT
from tests.gunicorn import Gunicorn, app_environment, free_port

NGINX = "/usr/sbin/nginx"
SITE = ROOT / "deploy" / "nginx" / "innolab.conf"
HOST = "innolab.test"
IN_CI = os.environ.get("CI", "").lower() == "true"


# Debian's packages of the Brotli modules, which the shipped site needs (Debian's nginx.conf
# loads them from /etc/nginx/modules-enabled; this test's own nginx.conf names them)
BROTLI_LIBRARIES = "/usr/lib/nginx/modules"
BROTLI_MODULES = (f"{BROTLI_LIBRARIES}/ngx_http_brotli_filter_module.so",
                  f"{BROTLI_LIBRARIES}/ngx_http_brotli_static_module.so")


def _need_nginx() -> None:
    if os.path.exists(NGINX) and all(os.path.exists(m) for m in BROTLI_MODULES):
        return
    message = ("nginx mit Brotli nicht installiert: apt-get install nginx "
               "libnginx-mod-http-brotli-filter libnginx-mod-http-brotli-static")
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed ECDSA certificate for innolab.test and 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName(HOST), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "fullchain.pem", folder / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


def render_site(text: str, replacements: dict[str, str]) -> str:
    """The shipped site with its deployment values replaced; each must be in it."""
    for old, new in replacements.items():
        assert old in text, f"{old!r} is not in deploy/nginx/innolab.conf"
        text = text.replace(old, new)
    return text


class Nginx:
    def __init__(self, folder: Path, site: str) -> None:
        self.folder = folder
        for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi", "logs"):
            (folder / name).mkdir(exist_ok=True)
        (folder / "innolab.conf").write_text(site)
        self.conf = folder / "nginx.conf"
        self.error_log = folder / "logs" / "error.log"
        self.conf.write_text(f"""
daemon off;
worker_processes 1;
user root root;
load_module {BROTLI_LIBRARIES}/ngx_http_brotli_filter_module.so;
load_module {BROTLI_LIBRARIES}/ngx_http_brotli_static_module.so;
pid {folder}/nginx.pid;
error_log {self.error_log} info;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/innolab.conf;
}}
""")
        self.base = [NGINX, "-p", str(folder), "-e", str(self.error_log), "-c", str(self.conf)]
        self.process: subprocess.Popen | None = None

    def test_config(self) -> subprocess.CompletedProcess:
        return subprocess.run([*self.base, "-t"], capture_output=True, text=True, timeout=30)

    def start(self, ports: tuple[int, ...]) -> None:
        self.process = subprocess.Popen(self.base, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        for port in ports:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"nginx exited: {self.process.stderr.read().decode()}"
                                       f"{self.error_log.read_text()}")
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("nginx does not listen") from None
                    time.sleep(0.1)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


@pytest.fixture(scope="module")
def proxy(app, tmp_path_factory):
    """gunicorn with the shipped configuration behind nginx with the shipped site."""
    _need_nginx()
    tmp = tmp_path_factory.mktemp("nginx")
    cert, key = _certificate(tmp)
    http_port, https_port = free_port(), free_port()
    env = {**app_environment(app, tmp), "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "4",
           "PROXY_FIX": "true"}
    with Gunicorn(env, tmp) as server:
        site = render_site(SITE.read_text(), {
            "innolab.zdmv.example": HOST,
            "listen 80;": f"listen 127.0.0.1:{http_port};",
            "listen [::]:80;": "",
            "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
            "listen [::]:443 ssl http2;": "",
            "/etc/ssl/innolab/fullchain.pem": str(cert),
            "/etc/ssl/innolab/privkey.pem": str(key),
            "/opt/innolab/static/": f"{ROOT / 'static'}/",
            "server 127.0.0.1:8000;": f"server 127.0.0.1:{server.port};",
            "/var/log/nginx/": f"{tmp / 'logs'}/",
        })
        nginx = Nginx(tmp, site)
        checked = nginx.test_config()
        assert checked.returncode == 0, checked.stderr
        assert "syntax is ok" in checked.stderr and "test is successful" in checked.stderr
        nginx.start((http_port, https_port))
        try:
            yield type("Proxy", (), {"https": f"https://127.0.0.1:{https_port}",
                                     "http": f"http://127.0.0.1:{http_port}",
                                     "https_port": https_port, "cert": str(cert),
                                     "folder": tmp, "server": server})
        finally:
            nginx.stop()


def test_a_page_through_nginx_over_https(proxy):
    response = requests.get(f"{proxy.https}/challenges", verify=proxy.cert, timeout=10,
                            headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert "Herausforderungen" in response.text
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    assert response.headers["Cache-Control"] == "no-store"  # the app's, for pages
    # nginx's request id reached the app (it is the id of the request there)
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])
    # one HSTS and one nosniff header, nginx's
    assert response.raw.headers.getlist("Strict-Transport-Security") == [
        "max-age=63072000; includeSubDomains"]
    assert response.raw.headers.getlist("X-Content-Type-Options") == ["nosniff"]
    assert "nginx/" not in response.headers.get("Server", "")  # server_tokens off
    # the app learnt the scheme from nginx (PROXY_FIX): absolute addresses are https
    robots = requests.get(f"{proxy.https}/robots.txt", verify=proxy.cert, timeout=10)
    assert "Sitemap: https://127.0.0.1/sitemap.xml" in robots.text
    # nginx's access line: request id, method, path without its query, status
    requests.get(f"{proxy.https}/challenges?q=geheim", verify=proxy.cert, timeout=10)
    lines = (proxy.folder / "logs" / "innolab.access.log").read_text()
    assert re.search(r" [0-9a-f]{32} GET /challenges 200 ", lines)
    assert "geheim" not in lines and "127.0.0.1" not in lines


def test_a_static_file_from_disk_compressed_and_cached_for_an_hour(proxy):
    css = ROOT / "static" / "css" / "innolab.css"
    response = requests.get(f"{proxy.https}/static/css/innolab.css", verify=proxy.cert,
                            timeout=10, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.content == css.read_bytes()
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Content-Type"].startswith("text/css")
    assert response.headers["Cache-Control"] == "max-age=3600"
    assert "immutable" not in response.headers["Cache-Control"]  # no fingerprint in the address
    assert "X-Request-ID" not in response.headers  # nginx answered, not the app
    assert "max-age=63072000" in response.headers["Strict-Transport-Security"]
    etag = response.headers["ETag"]
    again = requests.get(f"{proxy.https}/static/css/innolab.css", verify=proxy.cert,
                         timeout=10, headers={"If-None-Match": etag})
    assert again.status_code == 304
    hidden = requests.get(f"{proxy.https}/static/vendor/.stamp", verify=proxy.cert, timeout=10)
    assert hidden.status_code == 404


def test_a_fingerprinted_static_file_is_cached_for_a_year_from_its_gz(proxy):
    kern = ROOT / "static" / "vendor" / "kern" / "kern.pruned.css"  # what the pages link
    assert kern.with_name("kern.pruned.css.gz").exists()  # written by scripts/vendor.sh
    response = requests.get(f"{proxy.https}/static/vendor/kern/kern.pruned.css?v=abc123",
                            verify=proxy.cert, timeout=10, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.content == kern.read_bytes()
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "max-age=63072000" in response.headers["Strict-Transport-Security"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_brotli_for_the_browsers_that_ask_for_it(proxy):
    """A browser that accepts br gets the vendored CSS from its .br copy and a page compressed
    on the fly; one that accepts gzip only still gets gzip."""
    kern = ROOT / "static" / "vendor" / "kern" / "kern.pruned.css"
    both = {"Accept-Encoding": "br, gzip"}
    raw = requests.get(f"{proxy.https}/static/vendor/kern/kern.pruned.css?v=abc123",
                       verify=proxy.cert, timeout=10, headers=both, stream=True)
    assert raw.headers["Content-Encoding"] == "br"
    sent = raw.raw.read(decode_content=False)
    assert sent == kern.with_name("kern.pruned.css.br").read_bytes()  # brotli_static
    assert brotli.decompress(sent) == kern.read_bytes()
    assert raw.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Accept-Encoding" in raw.headers["Vary"]
    page = requests.get(f"{proxy.https}/challenges", verify=proxy.cert, timeout=10,
                        headers=both)
    assert page.headers["Content-Encoding"] == "br"
    assert "Herausforderungen" in page.text
    gzip_only = requests.get(f"{proxy.https}/challenges", verify=proxy.cert, timeout=10,
                             headers={"Accept-Encoding": "gzip"})
    assert gzip_only.headers["Content-Encoding"] == "gzip"


def test_http_is_redirected_to_https(proxy):
    response = requests.get(f"{proxy.http}/challenges?seite=2", allow_redirects=False,
                            timeout=10)
    assert response.status_code == 301
    assert response.headers["Location"] == f"https://{HOST}/challenges?seite=2"


INTERMEDIATE = {"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
                "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
                "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305"}


def _handshake(proxy, version, ciphers=None):
    context = ssl.create_default_context(cafile=proxy.cert)
    context.minimum_version = context.maximum_version = version
    if ciphers:
        context.set_ciphers(ciphers)
    with socket.create_connection(("127.0.0.1", proxy.https_port), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname=HOST) as tls:
        return tls.version(), tls.cipher()[0]


def test_tls_after_mozillas_intermediate_profile(proxy):
    assert _handshake(proxy, ssl.TLSVersion.TLSv1_3)[0] == "TLSv1.3"
    version, cipher = _handshake(proxy, ssl.TLSVersion.TLSv1_2)
    assert version == "TLSv1.2" and cipher in INTERMEDIATE
    # the client's order counts among the profile's ciphers (ssl_prefer_server_ciphers off)
    assert _handshake(proxy, ssl.TLSVersion.TLSv1_2,
                      "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256") == (
        "TLSv1.2", "ECDHE-ECDSA-CHACHA20-POLY1305")
    # a cipher outside the profile (CBC, no AEAD) is refused
    with pytest.raises(ssl.SSLError):
        _handshake(proxy, ssl.TLSVersion.TLSv1_2, "ECDHE-ECDSA-AES128-SHA256")
    # TLS 1.1 is refused by the server (this client would speak it: security level 0)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    context.set_ciphers("ALL:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_1
    with socket.create_connection(("127.0.0.1", proxy.https_port), timeout=5) as raw, \
            pytest.raises(ssl.SSLError, match="(?i)protocol version"):
        context.wrap_socket(raw, server_hostname=HOST)


def test_uploads_over_the_limit_are_refused_by_nginx(proxy):
    too_big = requests.post(f"{proxy.https}/proposals/new", verify=proxy.cert, timeout=30,
                            data=b"x" * (12 * 1024 * 1024),
                            headers={"Content-Type": "application/octet-stream"})
    assert too_big.status_code == 413
    assert "X-Request-ID" not in too_big.headers  # never reached the app
    # what the app allows (UPLOAD_MAX_MB 10 + 1) passes nginx and is the app's to judge
    fits = requests.post(f"{proxy.https}/login", verify=proxy.cert, timeout=30,
                         data=b"x" * (10 * 1024 * 1024 + 512 * 1024),
                         headers={"Content-Type": "application/octet-stream"})
    assert fits.status_code != 413 and "X-Request-ID" in fits.headers
    # the sign-language video has its own, larger limit
    video = requests.post(f"{proxy.https}/admin/sign-language", verify=proxy.cert,
                          timeout=30, data=b"x" * (15 * 1024 * 1024),
                          headers={"Content-Type": "application/octet-stream"})
    assert video.status_code != 413 and "X-Request-ID" in video.headers
