"""The container images (Dockerfile) without a container engine.

No engine runs on the development machines, so the image is checked from both ends: the
Dockerfile is linted (hadolint, installed by `make setup` from the test extras) and its facts are
asserted, and its install step is replayed exactly: the files the function stage COPYs go into
a fresh source tree, scripts/install-venv.sh installs it into a fresh virtualenv, and the
installed command then runs as nobody (when the tests run as root) on a kustomize input.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

from conftest import BIN_DIR, FIXTURES, ROOT
from dockerfile import DOCKERFILE, instructions, stage

NOBODY = 65534


def test_hadolint_passes():
    hadolint = shutil.which("hadolint", path=str(BIN_DIR))
    assert hadolint, "hadolint is a test dependency (pyproject test extras): run `make setup`"
    out = subprocess.run([hadolint, "--failure-threshold", "info", str(DOCKERFILE)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr


def test_base_images_are_pinned_by_full_tag():
    froms = [args.split()[0] for _, keyword, args in instructions() if keyword == "FROM"]
    external = [image for image in froms if ":" in image]
    assert external, froms
    for image in external:
        tag = image.split(":", 1)[1].split("@")[0]
        assert re.match(r"^\d+\.\d+\.\d+-", tag), f"{image}: pin a full version tag"
    assert any(image.startswith("python:3.11.") for image in external)


def test_function_stage_runs_krm_pulsar_as_nobody():
    function = stage("function")
    users = [args for keyword, args in function if keyword == "USER"]
    assert users[-1] == f"{NOBODY}:{NOBODY}"
    entrypoints = [args for keyword, args in function if keyword == "ENTRYPOINT"]
    assert entrypoints == ['["krm-pulsar"]']
    runs = [args for keyword, args in function if keyword == "RUN"]
    assert any(args.startswith("/src/scripts/install-venv.sh /opt/krm-pulsar /src")
               for args in runs), runs
    env = " ".join(args for keyword, args in function if keyword == "ENV")
    assert "PATH=/opt/krm-pulsar/bin:$PATH" in env


def test_argocd_stage_has_kustomize_the_plugin_and_user_999():
    argocd = stage("argocd-cmp")
    froms = [args for keyword, args in argocd if keyword == "FROM"]
    assert froms == ["function AS argocd-cmp"]
    copies = [args for keyword, args in argocd if keyword == "COPY"]
    assert "--from=kustomize /out/kustomize /usr/local/bin/kustomize" in copies
    assert "argocd/plugin.yaml /home/argocd/cmp-server/config/plugin.yaml" in copies
    assert [args for keyword, args in argocd if keyword == "USER"][-1] == "999:999"
    builder = stage("kustomize")
    assert ("ARG", "KUSTOMIZE_VERSION=v5.8.1") in builder
    assert any("sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}" in args
               for keyword, args in builder if keyword == "RUN")
    # the sidecar container in the repo-server patch runs with the same user
    patch = yaml.safe_load((ROOT / "argocd" / "repo-server-patch.yaml").read_text())
    sidecar = patch["spec"]["template"]["spec"]["containers"][0]
    assert sidecar["securityContext"]["runAsUser"] == 999


@pytest.fixture(scope="module")
def image_install():
    """Replay the function stage: COPY its sources, RUN its install step."""
    # world-readable, so the installed command can run as nobody like in the image
    workdir = Path(tempfile.mkdtemp(prefix="krm-pulsar-image-"))
    os.chmod(workdir, 0o755)
    src = workdir / "src"
    src.mkdir()
    for keyword, args in stage("function"):
        if keyword != "COPY":
            continue
        *sources, destination = args.split()
        assert destination.startswith("/src/"), args
        for source in sources:
            target = src / destination[len("/src/"):]
            if destination.endswith("/"):
                target = target / Path(source).name
            target.parent.mkdir(parents=True, exist_ok=True)
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, target,
                                ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(ROOT / source, target)
    venv = workdir / "opt" / "krm-pulsar"
    env = dict(os.environ)
    interpreter = nobody_python()
    if interpreter:  # the image's python3 is in /usr/local/bin, readable by everyone
        env["PATH"] = f"{interpreter.parent}{os.pathsep}{env['PATH']}"
    out = subprocess.run([str(src / "scripts" / "install-venv.sh"), str(venv), str(src)],
                         capture_output=True, text=True, timeout=600, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    shutil.rmtree(src)  # `&& rm -rf /src`: the installed command must not need the sources
    for root, dirs, files in os.walk(workdir):
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o755)
    yield venv
    shutil.rmtree(workdir)


def world_reachable(path: Path) -> bool:
    """Can nobody execute `path` (every directory above it searchable by others)?"""
    real = path.resolve()
    return all(os.stat(parent).st_mode & 0o001 for parent in real.parents) and bool(
        os.stat(real).st_mode & 0o001)


def nobody_python() -> Path | None:
    """A python3 >= 3.11 on PATH that nobody may run (a python under /root is not)."""
    for directory in os.environ.get("PATH", "").split(os.pathsep) + ["/usr/bin"]:
        candidate = Path(directory) / "python3"
        if not candidate.exists() or not world_reachable(candidate):
            continue
        version = subprocess.run([str(candidate), "-c", "import sys; print(sys.version_info >= "
                                  "(3, 11))"], capture_output=True, text=True).stdout
        if version.strip() == "True":
            return candidate
    return None


def run_as_nobody(argv, stdin: bytes, env: dict):
    def drop():
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    # Only root can switch users; without a python nobody may run, stay the current user.
    as_root = os.geteuid() == 0 and nobody_python() is not None
    return subprocess.run(argv, input=stdin, capture_output=True, env=env, cwd="/tmp",
                          preexec_fn=drop if as_root else None, timeout=60)


def test_installed_image_command_works_as_nobody(image_install):
    command = image_install / "bin" / "krm-pulsar"
    assert not (image_install / "bin" / "pip").exists(), "pip is removed from the image"
    # byte-code compiled at install time: nobody cannot write a cache at run time
    assert list(image_install.glob("lib/python*/site-packages/krm_pulsar/__pycache__/*.pyc"))
    env = {"PATH": f"{image_install / 'bin'}:/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
    stdin = (FIXTURES / "kustomize-generator-input.yaml").read_bytes()
    out = run_as_nobody([str(command)], stdin, env)
    assert out.returncode == 0, out.stderr
    reference = subprocess.run([str(BIN_DIR / "krm-pulsar")], input=stdin, capture_output=True,
                               timeout=60)
    assert out.stdout == reference.stdout
    who = run_as_nobody([str(image_install / "bin" / "python"), "-c",
                         "import os; print(os.getuid())"], b"", env)
    if os.geteuid() == 0 and nobody_python():
        assert who.stdout.strip() == str(NOBODY).encode()
    version = run_as_nobody([str(command), "--version"], b"", env)
    assert version.stdout.decode().startswith("krm-pulsar ")


def test_documented_image_names_agree():
    # one name for the function image and one for the sidecar, wherever they are written
    function_image = yaml.safe_load(
        (ROOT / "functions" / "pulsar-cluster" / "metadata.yaml").read_text())["image"]
    sidecar = yaml.safe_load((ROOT / "argocd" / "repo-server-patch.yaml").read_text())[
        "spec"]["template"]["spec"]["containers"][0]["image"]
    header = DOCKERFILE.read_text()
    assert f"--target function -t {function_image} ." in header
    assert f"--target argocd-cmp -t {sidecar} ." in header
    assert function_image in (ROOT / "examples" / "kustomize" / "container" /
                              "pulsar-cluster.yaml").read_text()
    for page in ("container.md", "kustomize.md", "kpt.md"):
        assert function_image in (ROOT / "docs" / "integrations" / page).read_text(), page
    assert sidecar in (ROOT / "docs" / "integrations" / "argocd.md").read_text()
    # the version in the tags is the package's
    version = re.search(r'^version = "(.+)"', (ROOT / "pyproject.toml").read_text(), re.M)[1]
    assert function_image.endswith(f":v{version}") and sidecar.endswith(f":v{version}")
