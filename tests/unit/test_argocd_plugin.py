"""The Argo CD plugin's files, checked without Argo CD (the fast subset).

What the plugin does in Argo CD (discovery, generation, parameters, errors, the sidecar in Argo
CD's install.yaml) is proven with Argo CD's own repo-server and cmp-server in
tests/gitops/test_gitops_argocd.py. Left here: what those servers do not look at, the
parameter announcements shown in the UI and the shell of the plugin's two commands.
"""

from __future__ import annotations

import shutil
import subprocess

import yaml

from conftest import BIN_DIR, ROOT

PLUGIN = ROOT / "argocd" / "plugin.yaml"
COMMANDS = [ROOT / "argocd" / "krm-pulsar-discover", ROOT / "argocd" / "krm-pulsar-generate"]


def plugin() -> dict:
    return yaml.safe_load(PLUGIN.read_text())


def test_plugin_file_is_a_v2_config_management_plugin():
    spec = plugin()
    assert spec["apiVersion"] == "argoproj.io/v1alpha1"
    assert spec["kind"] == "ConfigManagementPlugin"
    assert spec["metadata"]["name"] == "krm-pulsar"
    # a spec.version would force Applications to say "krm-pulsar-<version>" (argo-cd#12083)
    assert "version" not in spec["spec"]
    static = {p["name"]: p for p in spec["spec"]["parameters"]["static"]}
    assert {"image", "namespace"} <= set(static)
    for param in static.values():
        assert param["collectionType"] == "string" and param["title"] and param["tooltip"]


def test_plugin_commands_are_the_files_the_image_ships():
    # Argo CD's error messages start with the command line it ran: one short name, no script
    spec = plugin()["spec"]
    assert spec["discover"]["find"]["command"] == ["krm-pulsar-discover"]
    assert spec["generate"]["command"] == ["krm-pulsar-generate"]
    assert "args" not in spec["generate"] and "args" not in spec["discover"]["find"]
    copies = [line for line in (ROOT / "Dockerfile").read_text().splitlines()
              if line.startswith("COPY") and "krm-pulsar-discover" in line]
    assert copies == ["COPY --chmod=755 argocd/krm-pulsar-discover argocd/krm-pulsar-generate "
                      "/usr/local/bin/"]


def test_plugin_commands_pass_shellcheck():
    shellcheck = shutil.which("shellcheck", path=str(BIN_DIR))
    assert shellcheck, "shellcheck is a test dependency (pyproject test extras): run `make setup`"
    scripts = [*COMMANDS, ROOT / "tests" / "gitops" / "bin" / "git-verify-wrapper.sh",
               ROOT / "scripts" / "ensure-argocd.sh", ROOT / "scripts" / "ensure-flux.sh"]
    out = subprocess.run([shellcheck, "--severity=style", *map(str, scripts)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    for script in COMMANDS:
        # POSIX sh: /bin/sh is dash in the Debian-based image
        assert script.read_text().startswith("#!/bin/sh\n"), script
