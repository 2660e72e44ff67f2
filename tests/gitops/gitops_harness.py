"""Real Argo CD and Flux programs for the GitOps tests (tests/gitops/README.md).

Everything here starts programs built by scripts/ensure-argocd.sh and scripts/ensure-flux.sh,
binds them to 127.0.0.1 (or a Unix socket in a temporary directory), records each PID and
stops it by that PID.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import yaml

import dockerfile  # tests/support/dockerfile.py
from conftest import _missing_tool

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

ARGOCD_VERSION = "v3.6.1"
FLUX_VERSION = "v2.9.5"
# The destination cluster the requests describe, as the application controller reports it.
KUBE_VERSION = "1.32.4"
API_VERSIONS = ["v1", "apps/v1", "batch/v1", "policy/v1", "networking.k8s.io/v1",
                "rbac.authorization.k8s.io/v1", "scheduling.k8s.io/v1", "autoscaling/v2"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Process:
    """A started server: its PID, its log file, and how it must be stopped."""

    name: str
    argv: list[str]
    env: dict
    log: Path
    stop_signal: int = signal.SIGTERM
    popen: subprocess.Popen | None = field(default=None, repr=False)

    def start(self, cwd=None, stdout=None) -> Process:
        self._log_file = open(self.log, "wb")
        self.popen = subprocess.Popen(self.argv, env=self.env, cwd=cwd,
                                      stdout=stdout or self._log_file, stderr=self._log_file,
                                      stdin=subprocess.DEVNULL)
        return self

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self) -> None:
        """Stop by the recorded PID; SIGKILL when the stop signal is not honoured in 10 s."""
        if self.popen is None:
            return
        if self.popen.poll() is None:
            os.kill(self.pid, self.stop_signal)
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)
        self._log_file.close()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def wait_until(check, timeout: float, what: str, process: Process | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and not process.alive():
            raise RuntimeError(f"{process.name} exited while waiting for {what}:\n"
                               f"{process.log_text()[-3000:]}")
        result = check()
        if result:
            return result
        time.sleep(0.1)
    tail = process.log_text()[-3000:] if process else ""
    raise TimeoutError(f"{what} not ready after {timeout} s\n{tail}")


def ensure_tool(name: str, variable: str, script: str) -> Path:
    """The directory a scripts/ensure-*.sh builds: from `variable` (the Makefile sets it) or by
    running the script (it builds once per machine, then only prints the path). A tool that
    cannot be had skips the tests, and fails them with CI=true."""
    if os.environ.get(variable):
        return Path(os.environ[variable])
    out = subprocess.run([str(ROOT / "scripts" / script)], capture_output=True, text=True,
                         timeout=1800)
    if out.returncode != 0:
        _missing_tool(name, f"scripts/{script} failed:\n{out.stderr[-3000:]}")
    return Path(out.stdout.strip().splitlines()[-1])


# --- git repositories -------------------------------------------------------------------------


def git(*args, cwd) -> str:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd),
           "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "krm-pulsar tests",
           "GIT_AUTHOR_EMAIL": "tests@krm-pulsar.invalid", "GIT_COMMITTER_NAME": "krm-pulsar tests",
           "GIT_COMMITTER_EMAIL": "tests@krm-pulsar.invalid"}
    out = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                         timeout=60)
    if out.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {out.stderr}")
    return out.stdout.strip()


@dataclass
class GitRepository:
    """A repository the repo-server clones over file://, as it would clone from a forge."""

    path: Path
    url: str
    revision: str


def git_repository(path: Path, files: dict[str, str | Path]) -> GitRepository:
    """Commit `files` (repository path -> text, or a file/directory to copy) on branch main."""
    work = path.with_name(path.name + "-work")
    work.mkdir(parents=True)
    for name, content in files.items():
        target = work / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            if content.is_dir():
                shutil.copytree(content, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(content, target)
        else:
            target.write_text(content)
    git("init", "-q", "-b", "main", cwd=work)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "krm-pulsar GitOps test repository", cwd=work)
    git("clone", "-q", "--bare", str(work), str(path), cwd=work.parent)
    return GitRepository(path=path, url=path.as_uri(), revision=git("rev-parse", "HEAD", cwd=work))


# --- the argocd-cmp image, replayed ----------------------------------------------------------


@dataclass
class SidecarImage:
    """The files of the argocd-cmp image that the cmp-server and the plugin use, laid out
    under `root` by replaying the stage's COPY instructions from the build context. The
    function stage's install (krm-pulsar on PATH) is the test virtualenv's console script and
    `COPY --from=kustomize` is the kustomize v5.8.1 the tests built."""

    root: Path
    path: list[str]
    config_dir: Path


def sidecar_image(root: Path, krm_pulsar_bin: Path, kustomize: str) -> SidecarImage:
    copies = []
    for keyword, args in dockerfile.stage("argocd-cmp"):
        if keyword != "COPY":
            continue
        words = args.split()
        options = [w for w in words if w.startswith("--")]
        *sources, destination = [w for w in words if not w.startswith("--")]
        copies.append((options, sources, destination))
    for options, sources, destination in copies:
        for source in sources:
            if any(o.startswith("--from=kustomize") for o in options):
                origin = Path(kustomize)
            else:
                assert not any(o.startswith("--from=") for o in options), options
                origin = ROOT / source
            target = root / destination.lstrip("/")
            if destination.endswith("/"):
                target = target / Path(source).name
            target.parent.mkdir(parents=True, exist_ok=True)
            if origin == Path(kustomize):
                target.symlink_to(origin)  # a built binary: no need to copy it
                continue
            shutil.copy2(origin, target)
            mode = next((o.split("=", 1)[1] for o in options if o.startswith("--chmod=")), None)
            if mode:
                os.chmod(target, int(mode, 8))
    config_file = root / "home/argocd/cmp-server/config/plugin.yaml"
    assert config_file.exists(), "the argocd-cmp stage must COPY plugin.yaml to the config dir"
    # The python base image's PATH, with the function stage's venv first (ENV PATH=...).
    path = [str(krm_pulsar_bin)] + [str(root / d.lstrip("/")) for d in (
        "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")]
    # The image's own /usr/bin and /bin come from Debian; use this machine's for sh and grep.
    path += ["/usr/bin", "/bin"]
    return SidecarImage(root=root, path=path, config_dir=config_file.parent)


# --- Argo CD -----------------------------------------------------------------------------------


class ArgoCD:
    """Argo CD's repo-server with the krm-pulsar plugin's cmp-server sidecar.

    Relocated from the image's paths into `base`: the plugin socket directory
    (ARGOCD_PLUGINSOCKFILEPATH, shared by both as the `plugins` volume is), the cmp-server's work
    directory (ARGOCD_CMP_WORKDIR) and config (--config-dir-path), the repo-server's ask-pass
    socket (ARGOCD_ASK_PASS_SOCK) and each server's own TMPDIR (the sidecar has its own /tmp).
    """

    def __init__(self, base: Path, argocd_dir: Path, image: SidecarImage, kustomize: str):
        self.base = base
        self.argocd_dir = argocd_dir
        self.image = image
        self.kustomize = kustomize
        self.processes: list[Process] = []

    def start(self) -> ArgoCD:
        base = self.base
        sockets = base / "plugins"
        for name in ("plugins", "cmp-tmp", "cmp-work", "repo-tmp", "repo-home"):
            (base / name).mkdir(parents=True, exist_ok=True)
        cmp_env = {
            "PATH": os.pathsep.join(self.image.path),
            "HOME": str(base / "cmp-tmp"),  # the image's HOME=/tmp
            "TMPDIR": str(base / "cmp-tmp"),
            "ARGOCD_PLUGINSOCKFILEPATH": str(sockets),
            "ARGOCD_CMP_WORKDIR": str(base / "cmp-work"),
        }
        self.cmp_server = Process(
            "argocd-cmp-server",
            [str(self.argocd_dir / "argocd-cmp-server"), "--config-dir-path",
             str(self.image.config_dir), "--loglevel", "info", "--logformat", "json"],
            cmp_env, base / "cmp-server.log", stop_signal=signal.SIGKILL)
        # argocd-cmp-server ignores SIGTERM (it only removes its socket): SIGKILL by PID.
        self.processes.append(self.cmp_server.start())
        socket_path = sockets / "krm-pulsar.sock"
        wait_until(socket_path.exists, 30, "the cmp-server socket", self.cmp_server)

        self.port, metrics_port = free_port(), free_port()
        repo_env = {
            # git and our git-verify-wrapper.sh, and kustomize as Argo CD's image ships it
            # (for the kustomize applications the plugin does not claim)
            "PATH": os.pathsep.join([str(HERE / "bin"), os.path.dirname(self.kustomize),
                                     "/usr/bin", "/bin"]),
            "HOME": str(base / "repo-home"),
            "TMPDIR": str(base / "repo-tmp"),
            "ARGOCD_PLUGINSOCKFILEPATH": str(sockets),
            "ARGOCD_ASK_PASS_SOCK": str(base / "repo-tmp" / "reposerver-ask-pass.sock"),
            # GnuPG commit verification (a keyring, Argo CD's gpg-wrapper.sh) is not what the
            # tests are about; Argo CD's documented switch turns it off. The repo-server still
            # runs git-verify-wrapper.sh on every generation.
            "ARGOCD_GPG_ENABLED": "false",
        }
        self.repo_server = Process(
            "argocd-repo-server",
            [str(self.argocd_dir / "argocd-repo-server"), "--in-process-redis",
             "--disable-tls", "--client-ca-path", "", "--address", "127.0.0.1",
             "--port", str(self.port), "--metrics-address", "127.0.0.1",
             "--metrics-port", str(metrics_port), "--loglevel", "debug", "--logformat", "json"],
            repo_env, base / "repo-server.log")
        self.processes.append(self.repo_server.start())

        def healthy():
            try:
                url = f"http://127.0.0.1:{metrics_port}/healthz?full=true"
                with urllib.request.urlopen(url, timeout=2) as response:
                    return response.status == 200
            except OSError:
                return False
        wait_until(healthy, 60, "the repo-server", self.repo_server)
        return self

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()

    def generate_manifest(self, request: dict) -> tuple[list[dict] | None, str]:
        """GenerateManifest through Argo CD's own repo-server client: ``(objects, "")`` or
        ``(None, error)``, the error being the gRPC status the controller receives."""
        out = subprocess.run(
            [str(self.argocd_dir / "argocd-harness"), "generate-manifest",
             f"127.0.0.1:{self.port}"],
            input=json.dumps(request), capture_output=True, text=True, timeout=120,
            env={"PATH": "/usr/bin:/bin", "HOME": str(self.base)})
        if out.returncode != 0:
            return None, out.stderr.strip()
        response = json.loads(out.stdout)
        return [json.loads(m) for m in response.get("manifests") or []], ""

    def generate_applications(self, appset_file: Path) -> list[dict]:
        """The Applications Argo CD's ApplicationSet controller renders from `appset_file`."""
        out = subprocess.run(
            [str(self.argocd_dir / "argocd-harness"), "generate-applications", str(appset_file)],
            capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    def log_entries(self, process: Process) -> list[dict]:
        entries = []
        for line in process.log_text().splitlines():
            try:
                entries.append(json.loads(line))
            except ValueError:
                entries.append({"level": "unparsed", "msg": line})
        return entries


def manifest_request(repo: GitRepository, path: str, *, app_name="pulsar",
                     destination_namespace="pulsar", plugin: dict | None = None,
                     no_plugin_block=False) -> dict:
    """The ManifestRequest the application controller sends for an Application in the
    `argocd` namespace (controller/state.go): AppName is the Application's name, Namespace its
    destination namespace, ApplicationSource its spec.source."""
    source = {"repoURL": repo.url, "path": path, "targetRevision": "main"}
    if not no_plugin_block:
        source["plugin"] = plugin if plugin is not None else {}
    return {
        "repo": {"repo": repo.url},
        "revision": repo.revision,
        "appLabelKey": "app.kubernetes.io/instance",
        "appName": app_name,
        "namespace": destination_namespace,
        "applicationSource": source,
        "kubeVersion": KUBE_VERSION,
        "apiVersions": API_VERSIONS,
        "trackingMethod": "annotation",
        "projectName": "default",
        "projectSourceRepos": ["*"],
        # every request renders anew: several tests share one repo-server
        "noCache": True,
    }


# --- Flux --------------------------------------------------------------------------------------


class Registry:
    """tests/gitops/oci-registry on a free 127.0.0.1 port, storing under `base`."""

    def __init__(self, base: Path, flux_dir: Path):
        self.base = base
        self.flux_dir = flux_dir

    def start(self) -> Registry:
        storage = self.base / "registry"
        storage.mkdir(parents=True)
        self.address_file = self.base / "registry.address"
        self.process = Process("oci-registry", [str(self.flux_dir / "oci-registry"), str(storage)],
                               {"PATH": "/usr/bin:/bin"}, self.base / "registry.log")
        with open(self.address_file, "wb") as out:
            self.process.start(stdout=out)
        self.address = wait_until(
            lambda: self.address_file.read_text().strip() or None, 30, "the OCI registry",
            self.process)
        assert re.fullmatch(r"127\.0\.0\.1:\d+", self.address), self.address
        return self

    def stop(self) -> None:
        self.process.stop()


def load_objects(text: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(text) if doc]
