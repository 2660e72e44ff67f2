"""TLS and token authentication through real standalone kustomize: cert-manager objects, the
token Job and its script come out intact and valid."""

import subprocess

import pytest
import yaml

import cert_manager
from conftest import FIXTURES, tool_env
from k8s import assert_valid
from krm_pulsar import token_init, yamlio

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("fixture", ["tls-auth-resource-sets.yaml", "tls-cert-manager.yaml"])
def test_kustomize_renders_tls_and_auth(kustomize, tmp_path, fixture):
    config = yamlio.load_all((FIXTURES / fixture).read_text())[0]
    config["metadata"]["annotations"] = {
        "config.kubernetes.io/function": "exec:\n  path: krm-pulsar\n"}
    (tmp_path / "pulsar.yaml").write_text(yamlio.dump(config))
    (tmp_path / "kustomization.yaml").write_text("generators:\n- pulsar.yaml\n")
    out = subprocess.run([kustomize, "build", "--enable-alpha-plugins", "--enable-exec",
                          str(tmp_path)], capture_output=True, text=True, env=tool_env(),
                         timeout=120)
    assert out.returncode == 0, out.stderr
    docs = list(yaml.safe_load_all(out.stdout))
    ours = [d for d in docs if d["apiVersion"] == "cert-manager.io/v1"]
    assert {d["kind"] for d in ours} == {"Issuer", "Certificate"}
    cert_manager.assert_valid(ours)
    assert_valid([d for d in docs if d not in ours])
    if fixture == "tls-auth-resource-sets.yaml":
        script = next(d for d in docs if d["kind"] == "ConfigMap"
                      and d["metadata"]["name"] == "pulsar-token-init")
        assert script["data"][token_init.SCRIPT_FILE] == token_init.SCRIPT.lstrip("\n")
        assert any(d["kind"] == "Job" and d["metadata"]["name"].startswith("pulsar-token-init-")
                   for d in docs)
