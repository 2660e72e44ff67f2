"""The token bootstrap Job's script, run for real against a fake Kubernetes API (HTTPS, with
the ServiceAccount token checked) and a fake ``bin/pulsar tokens`` that makes real RSA keys
with openssl. Proves: missing Secrets are created, existing ones are never changed, a second
run changes nothing, an interrupted run is repaired, inconsistent input fails loudly.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import os
import shutil
import ssl
import subprocess
import sys
import threading

import pytest

from krm_pulsar import token_init

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")

NAMESPACE = "pulsar"
SA_TOKEN = "service-account-token"
ROLES = "admin,proxy,superuser,websocket"

FAKE_PULSAR = """#!/bin/sh
# fake `bin/pulsar tokens`: real keys from openssl, tokens that name the signing key
set -e
[ "$1" = tokens ] || exit 2
case "$2" in
  create-key-pair)
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -outform DER -out "$4" 2>/dev/null
    openssl pkey -inform DER -in "$4" -pubout -outform DER -out "$6"
    ;;
  create)
    key="${4#file://}"
    echo "some JVM log line"
    echo "jwt.$6.$(sha256sum "$key" | cut -c1-16)"
    ;;
  *) exit 2 ;;
esac
"""


class FakeApi:
    """Secrets of one namespace behind GET/POST, as the API server answers them."""

    def __init__(self, secrets=None):
        self.secrets = dict(secrets or {})
        self.requests = []

    def handler(self):
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status, body=None):
                data = json.dumps(body or {}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorized(self):
                return self.headers.get("Authorization") == f"Bearer {SA_TOKEN}"

            def do_GET(self):
                api.requests.append(("GET", self.path))
                prefix = f"/api/v1/namespaces/{NAMESPACE}/secrets/"
                if not self._authorized() or not self.path.startswith(prefix):
                    return self._answer(403)
                name = self.path[len(prefix):]
                if name in api.secrets:
                    return self._answer(200, api.secrets[name])
                return self._answer(404)

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                api.requests.append(("POST", body["metadata"]["name"]))
                if not self._authorized() \
                        or self.path != f"/api/v1/namespaces/{NAMESPACE}/secrets":
                    return self._answer(403)
                if body["metadata"]["name"] in api.secrets:
                    return self._answer(409)
                api.secrets[body["metadata"]["name"]] = body
                return self._answer(201, body)

        return Handler

    def created(self):
        return [name for method, name in self.requests if method == "POST"]


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(directory / "key.pem"), "-out", str(directory / "cert.pem")],
                   check=True, capture_output=True)
    return directory


def run_job(tmp_path, tls_files, api: FakeApi):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), api.handler())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls_files / "cert.pem", tls_files / "key.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        account = tmp_path / "sa"
        account.mkdir(exist_ok=True)
        (account / "namespace").write_text(NAMESPACE)
        (account / "token").write_text(SA_TOKEN + "\n")
        shutil.copy(tls_files / "cert.pem", account / "ca.crt")
        home = tmp_path / "pulsar"
        (home / "bin").mkdir(parents=True, exist_ok=True)
        (home / "bin" / "pulsar").write_text(FAKE_PULSAR)
        (home / "bin" / "pulsar").chmod(0o755)
        work = tmp_path / "work"
        work.mkdir(exist_ok=True)
        for leftover in work.iterdir():
            leftover.unlink()
        script = tmp_path / token_init.SCRIPT_FILE
        script.write_text(token_init.SCRIPT)
        env = {"PATH": os.environ["PATH"], "SERVICE_ACCOUNT_DIR": str(account),
               "KUBERNETES_SERVICE_HOST": "127.0.0.1",
               "KUBERNETES_SERVICE_PORT": str(server.server_address[1]),
               "WORK_DIR": str(work), "PRIVATE_KEY_FILE": "my-private.key",
               "PUBLIC_KEY_FILE": "my-public.key", "TOKEN_ROLES": ROLES,
               "SECRET_LABELS": json.dumps({"app": "pulsar"})}
        return subprocess.run([sys.executable, str(script)], cwd=home, env=env,
                              capture_output=True, text=True, timeout=120)
    finally:
        server.shutdown()
        server.server_close()


def data(api, name, key):
    return base64.b64decode(api.secrets[name]["data"][key])


def secret(name, key, content: bytes):
    return {"metadata": {"name": name}, "data": {key: base64.b64encode(content).decode()}}


def public_of(tmp_path, private_der: bytes) -> bytes:
    path = tmp_path / "k.der"
    path.write_bytes(private_der)
    return subprocess.run(["openssl", "pkey", "-inform", "DER", "-in", str(path), "-pubout",
                           "-outform", "DER"], check=True, capture_output=True).stdout


def test_empty_namespace_gets_keys_and_tokens_and_a_second_run_changes_nothing(
        tmp_path, tls_files):
    api = FakeApi()
    result = run_job(tmp_path, tls_files, api)
    assert result.returncode == 0, result.stderr
    assert api.created() == ["token-private-key", "token-public-key", "token-admin",
                             "token-proxy", "token-superuser", "token-websocket"]
    private = data(api, "token-private-key", "my-private.key")
    assert data(api, "token-public-key", "my-public.key") == public_of(tmp_path, private)
    digest = hashlib.sha256(private).hexdigest()[:16]
    # the token only: JVM output before it is dropped, no trailing newline
    assert data(api, "token-proxy", "proxy.jwt") == f"jwt.proxy.{digest}".encode()
    assert api.secrets["token-admin"]["metadata"]["labels"] == {"app": "pulsar"}
    before = json.dumps(api.secrets, sort_keys=True)
    api.requests.clear()
    again = run_job(tmp_path, tls_files, api)
    assert again.returncode == 0, again.stderr
    assert api.created() == []
    assert json.dumps(api.secrets, sort_keys=True) == before


def test_existing_secrets_are_kept_and_tokens_signed_with_the_existing_key(tmp_path, tls_files):
    first = FakeApi()
    assert run_job(tmp_path, tls_files, first).returncode == 0
    private = data(first, "token-private-key", "my-private.key")
    kept = {name: first.secrets[name] for name in
            ("token-private-key", "token-public-key", "token-admin")}
    api = FakeApi(kept)
    result = run_job(tmp_path, tls_files, api)
    assert result.returncode == 0, result.stderr
    assert api.created() == ["token-proxy", "token-superuser", "token-websocket"]
    assert api.secrets["token-admin"] == kept["token-admin"]
    digest = hashlib.sha256(private).hexdigest()[:16]
    assert data(api, "token-superuser", "superuser.jwt") == f"jwt.superuser.{digest}".encode()


def test_interrupted_run_private_key_only_gets_its_public_key(tmp_path, tls_files):
    first = FakeApi()
    assert run_job(tmp_path, tls_files, first).returncode == 0
    private = data(first, "token-private-key", "my-private.key")
    api = FakeApi({"token-private-key": first.secrets["token-private-key"]})
    result = run_job(tmp_path, tls_files, api)
    assert result.returncode == 0, result.stderr
    assert "token-private-key" not in api.created()
    assert data(api, "token-public-key", "my-public.key") == public_of(tmp_path, private)


def test_public_key_without_private_key_fails_and_creates_nothing(tmp_path, tls_files):
    api = FakeApi({"token-public-key": secret("token-public-key", "my-public.key", b"x")})
    result = run_job(tmp_path, tls_files, api)
    assert result.returncode != 0
    assert "exists without token-private-key" in result.stderr
    assert api.created() == []


def test_secret_without_the_expected_key_fails(tmp_path, tls_files):
    api = FakeApi({"token-private-key": secret("token-private-key", "other.key", b"x"),
                   "token-public-key": secret("token-public-key", "my-public.key", b"y")})
    result = run_job(tmp_path, tls_files, api)
    assert result.returncode != 0
    assert "has no key my-private.key" in result.stderr
    assert api.created() == []
