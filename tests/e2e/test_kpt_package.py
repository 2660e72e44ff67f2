"""The kpt package example (examples/kpt) rendered with the real `kpt fn render --allow-exec`.

The package is copied to a temporary git repository, rendered, committed, and changed the way
users change it; `git status` then says exactly what a render did to the files.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from conftest import ROOT, tool_env
from k8s import assert_valid

pytestmark = pytest.mark.e2e

PACKAGE = ROOT / "examples" / "kpt"
USER_FILES = ("Kptfile", "namespace.yaml", "pulsar-cluster.yaml")
ISOLATED_SET_FILES = {f"messaging/broker/{kind}_messaging-broker-isolated.yaml" for kind in (
    "configmap", "poddisruptionbudget", "service", "statefulset")}


def git(cwd, *args) -> str:
    out = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd,
                         check=True, capture_output=True, text=True)
    return out.stdout


def render(kpt, pkg):
    out = subprocess.run([kpt, "fn", "render", "--allow-exec", str(pkg)], capture_output=True,
                         text=True, env=tool_env(), timeout=120)
    assert out.returncode == 0, out.stderr
    return out


def changes(pkg) -> dict[str, set[str]]:
    """Files changed since the last commit, by git status code (D, M, ??)."""
    result: dict[str, set[str]] = {}
    for line in git(pkg, "status", "--porcelain", "--untracked-files=all").splitlines():
        result.setdefault(line[:2].strip(), set()).add(line[3:])
    return result


def generated_files(pkg) -> list:
    return sorted(p for p in (pkg / "messaging").rglob("*") if p.is_file())


@pytest.fixture
def rendered(kpt, tmp_path):
    """The example package rendered once and committed."""
    pkg = tmp_path / "pulsar"
    shutil.copytree(PACKAGE, pkg)
    git(pkg, "init", "-q")
    git(pkg, "add", "-A")
    git(pkg, "commit", "-qm", "package as published")
    render(kpt, pkg)
    git(pkg, "add", "-A")
    git(pkg, "commit", "-qm", "rendered")
    return pkg


def test_render_writes_one_tidy_file_per_object(rendered):
    files = generated_files(rendered)
    assert len(files) > 15
    docs = []
    for path in files:
        relative = path.relative_to(rendered).as_posix()
        file_docs = list(yaml.safe_load_all(path.read_text()))
        assert len(file_docs) == 1, relative
        doc = file_docs[0]
        component = doc["metadata"]["labels"]["component"]
        assert relative == (f"messaging/{component}/{doc['kind'].lower()}_"
                            f"{doc['metadata']['name']}.yaml")
        assert doc["metadata"]["namespace"] == "messaging"
        # kpt's bookkeeping annotations do not end up on disk
        assert not any(k.startswith("internal.config.kubernetes.io/")
                       for k in doc["metadata"].get("annotations", {}))
        docs.append(doc)
    assert_valid(docs)
    assert ISOLATED_SET_FILES <= {p.relative_to(rendered).as_posix() for p in files}


def test_users_files_survive_byte_for_byte(rendered):
    for name in USER_FILES:
        assert (rendered / name).read_text() == (PACKAGE / name).read_text(), name
    # the comments are really there to lose
    assert "# owner, for cost reports" in (rendered / "namespace.yaml").read_text()
    assert "# every object goes here" in (rendered / "pulsar-cluster.yaml").read_text()


def test_second_render_changes_nothing(kpt, rendered):
    render(kpt, rendered)
    assert changes(rendered) == {}


def test_removing_a_set_deletes_exactly_its_files(kpt, rendered):
    config = rendered / "pulsar-cluster.yaml"
    text = config.read_text()
    isolated = ("      isolated:\n        replicas: 2 # remove this set to delete its "
                "StatefulSet, Service, ConfigMap and PDB\n")
    assert isolated in text
    config.write_text(text.replace(isolated, ""))
    render(kpt, rendered)
    assert changes(rendered) == {"M": {"pulsar-cluster.yaml"}, "D": ISOLATED_SET_FILES}


def test_removing_a_component_deletes_exactly_its_files(kpt, rendered):
    proxy_files = {p.relative_to(rendered).as_posix()
                   for p in (rendered / "messaging" / "proxy").glob("*.yaml")}
    assert len(proxy_files) >= 4
    config = rendered / "pulsar-cluster.yaml"
    config.write_text(config.read_text().replace("  proxy:\n    replicas: 2\n",
                                                 "  proxy:\n    replicas: 0\n"))
    render(kpt, rendered)
    # the bastion follows: without proxies it targets the brokers (KAAP's targetProxy default)
    assert changes(rendered) == {
        "M": {"pulsar-cluster.yaml", "messaging/bastion/configmap_messaging-bastion.yaml"},
        "D": proxy_files}
    bastion = (rendered / "messaging/bastion/configmap_messaging-bastion.yaml").read_text()
    assert "pulsar://messaging-broker.messaging.svc.cluster.local:6650/" in bastion


def test_hand_edits_of_generated_files_are_replaced(kpt, rendered):
    generated = rendered / "messaging" / "broker" / "statefulset_messaging-broker-shared.yaml"
    original = generated.read_text()
    assert "  replicas: 3\n" in original
    generated.write_text(original.replace("  replicas: 3\n", "  replicas: 7\n", 1))
    render(kpt, rendered)
    assert generated.read_text() == original
    assert changes(rendered) == {}


def test_a_new_users_object_is_left_alone(kpt, rendered):
    (rendered / "quota.yaml").write_text(
        "# my own quota\napiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: pulsar\n"
        "  namespace: messaging\nspec:\n  hard:\n    pods: \"50\" # leave room\n")
    before = (rendered / "quota.yaml").read_text()
    render(kpt, rendered)
    assert (rendered / "quota.yaml").read_text() == before
    assert changes(rendered) == {"??": {"quota.yaml"}}


def test_render_from_another_directory_finds_the_function_on_path(kpt, rendered, tmp_path):
    # `exec: krm-pulsar` is a bare name, so the working directory does not matter (a relative
    # exec path would be resolved against kpt's cwd, not the package).
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = subprocess.run([kpt, "fn", "render", "--allow-exec", str(rendered)], cwd=elsewhere,
                         capture_output=True, text=True, env=tool_env(), timeout=120)
    assert out.returncode == 0, out.stderr
    assert changes(rendered) == {}


def test_a_relative_exec_path_is_resolved_from_kpts_working_directory(kpt, rendered, tmp_path):
    # The trap docs/integrations/kpt.md warns about: a path relative to the package works only
    # when kpt runs from the package directory.
    tools = rendered / "tools"
    tools.mkdir()
    (tools / "krm-pulsar").symlink_to(shutil.which("krm-pulsar", path=tool_env()["PATH"]))
    kptfile = rendered / "Kptfile"
    kptfile.write_text(kptfile.read_text().replace("- exec: krm-pulsar\n",
                                                   "- exec: ./tools/krm-pulsar\n"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = subprocess.run([kpt, "fn", "render", "--allow-exec", str(rendered)], cwd=elsewhere,
                         capture_output=True, text=True, env=tool_env(), timeout=120)
    assert out.returncode != 0
    assert "no such file or directory" in out.stderr
    inside = subprocess.run([kpt, "fn", "render", "--allow-exec", "."], cwd=rendered,
                            capture_output=True, text=True, env=tool_env(), timeout=120)
    assert inside.returncode == 0, inside.stderr


FAKE_DOCKER = """#!/bin/sh
# kpt asks for the client version, then runs the image; run the installed function instead.
printf '%s\\n' "$*" >> {log}
case "$1" in
  version) echo 28.2.2 ;;
  run) exec {krm_pulsar} ;;
esac
"""


def test_image_pipeline_runs_the_documented_image_as_nobody(kpt, rendered, tmp_path):
    # The container path (`image:` in the Kptfile) gives the same files as `exec:`; a fake docker
    # records how kpt runs the image (no container engine here).
    image = yaml.safe_load((ROOT / "functions" / "pulsar-cluster" / "metadata.yaml")
                           .read_text())["image"]
    pkg = tmp_path / "image-pkg"
    shutil.copytree(PACKAGE, pkg)
    kptfile = pkg / "Kptfile"
    kptfile.write_text(kptfile.read_text().replace("- exec: krm-pulsar\n", f"- image: {image}\n"))
    fake = tmp_path / "fake-docker"
    fake.mkdir()
    log = tmp_path / "docker-calls"
    krm_pulsar = shutil.which("krm-pulsar", path=tool_env()["PATH"])
    (fake / "docker").write_text(FAKE_DOCKER.format(log=log, krm_pulsar=krm_pulsar))
    (fake / "docker").chmod(0o755)
    env = tool_env()
    env["PATH"] = f"{fake}:{env['PATH']}"
    out = subprocess.run([kpt, "fn", "render", str(pkg)], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    run = next(line.split() for line in log.read_text().splitlines() if line.startswith("run"))
    pairs = list(zip(run, run[1:]))
    assert ("--user", "nobody") in pairs and ("--network", "none") in pairs and "-i" in run
    assert run[-1] == image
    generated = {p.relative_to(pkg): p.read_text() for p in (pkg / "messaging").rglob("*.yaml")}
    expected = {p.relative_to(rendered): p.read_text()
                for p in (rendered / "messaging").rglob("*.yaml")}
    assert generated == expected
