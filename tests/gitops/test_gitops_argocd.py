"""The krm-pulsar plugin in Argo CD v3.6.1's own repo-server and cmp-server (tests/gitops).

Each test asks the repo-server for an application's manifests with the GenerateManifest call
the application controller makes, through Argo CD's own client. The repo-server clones a local
git repository, detects the source type and streams the repository to the cmp-server, which
runs argocd/plugin.yaml's discover and generate commands from the argocd-cmp image's files.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess

import pytest
import yaml

import gitops_harness as gh
from conftest import BIN_DIR, ROOT
from k8s import assert_valid

pytestmark = pytest.mark.gitops

EXAMPLES = ROOT / "examples"
PLAIN_APP = "examples/argocd/pulsar"
TRACKING = "argocd.argoproj.io/tracking-id"
# How the repo-server reports a failed generate command, up to the command's stderr; the
# controller adds "Failed to load target state: failed to generate manifest for source 1 of 1: "
# in front (controller/state.go) and shows it as the ComparisonError.
GENERATE_FAILED = re.compile(
    r'^rpc error: code = Unknown desc = CMP processing failed for application "(?P<app>[^"]+)": '
    r"error generating manifests in cmp: rpc error: code = Unknown desc = error generating "
    r"manifests: `krm-pulsar-generate` failed exit status (?P<status>\d+): (?P<stderr>.*)$",
    re.S)

PLAIN_CLUSTER = (EXAMPLES / "argocd" / "pulsar" / "pulsar-cluster.yaml").read_text()
UNRELATED_DEPLOYMENT = """\
# An application of another team; it only mentions a
# kind: PulsarCluster in this comment.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.29.3
"""
UNRELATED_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
"""
WEB_KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namePrefix: team-
resources:
- deployment.yaml
- service.yaml
"""


def our_repository_files() -> dict:
    """The project's examples as a user's repository holds them, plus applications that must
    fail, and applications of other teams beside ours."""
    bad_base = PLAIN_CLUSTER.replace("metadata:\n  name: pulsar\n", (
        "metadata:\n  name: pulsar\n  annotations:\n    config.kubernetes.io/function: |\n"
        "      exec:\n        path: krm-pulsar\n"), 1) + "  brokr: {}\n"
    return {
        "examples": EXAMPLES,
        "kustomization.yaml": ROOT / "kustomization.yaml",
        "apps/kaap/clusters/kaap.yml": (
            "apiVersion: kaap.oss.datastax.com/v1beta1\nkind: \"PulsarCluster\" # KAAP's\n"
            "metadata:\n  name: kaap\nspec:\n  global:\n    name: kaap\n"),
        "apps/bad-spec/pulsar-cluster.yaml": PLAIN_CLUSTER.replace(
            "replicas: 2", "replicas: -1", 1),
        "apps/bad-yaml/pulsar-cluster.yaml": PLAIN_CLUSTER + "  broker: [unclosed\n",
        "apps/bad-base/base/kustomization.yaml": "generators:\n- pulsar-cluster.yaml\n",
        "apps/bad-base/base/pulsar-cluster.yaml": bad_base,
        "apps/bad-base/overlay/kustomization.yaml": "resources:\n- ../base\nnamespace: bad\n",
        "apps/not-pulsar/configmap.yaml": (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n"
            "  note: |\n    kind: PulsarCluster\n"),
        "apps/web-kustomize/kustomization.yaml": WEB_KUSTOMIZATION,
        "apps/web-kustomize/deployment.yaml": UNRELATED_DEPLOYMENT,
        "apps/web-kustomize/service.yaml": UNRELATED_SERVICE,
        "apps/other-plugin/kustomization.yaml": "generators:\n- secrets.yaml\n",
        "apps/other-plugin/secrets.yaml": (
            "apiVersion: goabout.com/v1beta1\nkind: SopsSecretGenerator\nmetadata:\n"
            "  name: secrets\nfiles:\n- secret.enc.yaml\n"),
    }


def unrelated_repository_files() -> dict:
    """A repository without a single PulsarCluster: nothing here is ours."""
    return {
        "web/deployment.yaml": UNRELATED_DEPLOYMENT,
        "web/service.yaml": UNRELATED_SERVICE,
        # a PulsarCluster in a hidden directory or a non-YAML file is not an application of ours
        "web/.cache/stash.yaml": PLAIN_CLUSTER,
        "web/notes.txt": PLAIN_CLUSTER,
        "kustomize-web/kustomization.yaml": WEB_KUSTOMIZATION,
        "kustomize-web/deployment.yaml": UNRELATED_DEPLOYMENT,
        "kustomize-web/service.yaml": UNRELATED_SERVICE,
    }


@pytest.fixture(scope="module")
def argocd_dir():
    return gh.ensure_tool("Argo CD v3.6.1", "KRM_PULSAR_ARGOCD", "ensure-argocd.sh")


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return gh.git_repository(tmp_path_factory.mktemp("ours") / "repo.git", our_repository_files())


@pytest.fixture(scope="module")
def unrelated_repo(tmp_path_factory):
    return gh.git_repository(tmp_path_factory.mktemp("theirs") / "repo.git",
                             unrelated_repository_files())


@pytest.fixture(scope="module")
def checkout(repo, tmp_path_factory):
    """A working copy of the test repository, for reference builds outside Argo CD."""
    target = tmp_path_factory.mktemp("checkout") / "repo"
    gh.git("clone", "-q", str(repo.path), str(target), cwd=target.parent)
    return target


@pytest.fixture(scope="module")
def argocd(argocd_dir, kustomize, tmp_path_factory):
    base = tmp_path_factory.mktemp("argocd")
    image = gh.sidecar_image(base / "image", BIN_DIR, kustomize)
    servers = gh.ArgoCD(base / "servers", argocd_dir, image, kustomize)
    try:
        yield servers.start()
    finally:
        servers.stop()


def untracked(objects: list[dict], app="pulsar") -> list[dict]:
    """The objects without the tracking annotation the repo-server adds; each must have it."""
    result = []
    for obj in objects:
        obj = copy.deepcopy(obj)
        annotations = obj["metadata"].get("annotations") or {}
        tracking = annotations.pop(TRACKING, None)
        group = obj["apiVersion"].rpartition("/")[0]
        assert tracking and tracking.startswith(f"{app}:{group}/{obj['kind']}:"), (
            obj["kind"], obj["metadata"]["name"], tracking)
        if not annotations:
            obj["metadata"].pop("annotations", None)
        result.append(obj)
    return result


def canonical(objects: list[dict]) -> list[str]:
    return sorted(json.dumps(obj, sort_keys=True) for obj in objects)


def render_reference(directory, *args) -> list[dict]:
    out = subprocess.run([str(BIN_DIR / "krm-pulsar"), "render", *args, "."], cwd=directory,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return gh.load_objects(out.stdout)


def kustomize_reference(kustomize, directory) -> list[dict]:
    env = {"PATH": f"{BIN_DIR}{os.pathsep}/usr/bin:/bin", "HOME": str(directory)}
    out = subprocess.run([kustomize, "build", "--enable-alpha-plugins", "--enable-exec", "."],
                         cwd=directory, capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    return gh.load_objects(out.stdout)


def generate(argocd, repo, path, **request) -> list[dict]:
    objects, error = argocd.generate_manifest(gh.manifest_request(repo, path, **request))
    assert objects is not None, error
    assert objects, "an empty render would make Argo CD prune the application"
    return objects


def generate_error(argocd, repo, path, **request) -> str:
    objects, error = argocd.generate_manifest(gh.manifest_request(repo, path, **request))
    assert objects is None, f"{path} rendered {len(objects)} objects"
    return error


def images(objects) -> set[str]:
    found = set()
    for obj in objects:
        pod = obj.get("spec", {}).get("template", {}).get("spec", {})
        for container in pod.get("containers", []) + pod.get("initContainers", []):
            found.add(container["image"])
    return found


def namespaces(objects) -> set:
    return {obj["metadata"].get("namespace") for obj in objects}


PLUGIN_BLOCKS = {
    "named": {"plugin": {"name": "krm-pulsar"}},
    "empty-plugin-block": {"plugin": {}},
    "no-plugin-block": {"no_plugin_block": True},
}


# --- applications that are ours ----------------------------------------------------------------


def test_example_application_renders_with_its_env_and_parameters(argocd, repo):
    application = yaml.safe_load((EXAMPLES / "argocd" / "application.yaml").read_text())
    source = application["spec"]["source"]
    destination = application["spec"]["destination"]["namespace"]
    objects = generate(argocd, repo, source["path"], plugin=source["plugin"],
                       app_name=application["metadata"]["name"],
                       destination_namespace=destination)
    assert_valid(untracked(objects))
    # the namespace parameter and the PULSAR_IMAGE env entry (ARGOCD_ENV_PULSAR_IMAGE)
    assert namespaces(objects) == {destination}
    assert images(objects) == {source["plugin"]["env"][0]["value"]}
    broker = next(o for o in objects if o["kind"] == "ConfigMap"
                  and o["metadata"]["name"] == "pulsar-broker")
    assert f".{destination}.svc." in broker["data"]["PULSAR_PREFIX_zookeeperServers"]


def test_a_parameter_wins_over_the_env_entry_and_empty_means_unset(argocd, repo):
    objects = generate(argocd, repo, PLAIN_APP, plugin={
        "name": "krm-pulsar",
        "env": [{"name": "PULSAR_IMAGE", "value": "env.example.com/pulsar:1"},
                {"name": "PULSAR_NAMESPACE", "value": "from-env"}],
        "parameters": [{"name": "namespace", "string": "from-param"},
                       {"name": "image", "string": ""}]})
    assert images(objects) == {"env.example.com/pulsar:1"}
    assert namespaces(objects) == {"from-param"}


@pytest.mark.parametrize("block", PLUGIN_BLOCKS)
def test_a_plain_application_renders_however_it_names_the_plugin(argocd, repo, checkout, block):
    objects = untracked(generate(argocd, repo, PLAIN_APP, **PLUGIN_BLOCKS[block]))
    assert_valid(objects)
    assert not [o for o in objects if o["kind"] in ("PulsarCluster", "ResourceList")]
    # unnamespaced: they land in the Application's destination namespace
    assert namespaces(objects) == {None}
    assert canonical(objects) == canonical(render_reference(checkout / PLAIN_APP))


@pytest.mark.parametrize("path", ["examples/cluster", "."])
def test_the_bundled_example_cluster_renders(argocd, repo, checkout, kustomize, path):
    # examples/cluster is a plain directory (krm-pulsar render); the repository root is the
    # kustomization `make demo` builds from it: both give what kustomize gives locally
    objects = untracked(generate(argocd, repo, path, no_plugin_block=True))
    assert_valid(objects)
    assert canonical(objects) == canonical(kustomize_reference(kustomize, checkout))


KUSTOMIZE_APPS = ["examples/kustomize/base", "examples/kustomize/overlays/dev",
                  "examples/kustomize/overlays/prod"]


@pytest.mark.parametrize("block", ["named", "no-plugin-block"])
@pytest.mark.parametrize("path", KUSTOMIZE_APPS)
def test_the_kustomize_base_and_overlays_render(argocd, repo, checkout, kustomize, path, block):
    objects = untracked(generate(argocd, repo, path, **PLUGIN_BLOCKS[block]))
    assert_valid(objects)
    assert canonical(objects) == canonical(kustomize_reference(kustomize, checkout / path))
    broker = next(o for o in objects if o["kind"] == "StatefulSet"
                  and o["metadata"]["name"] == "pulsar-broker")
    expected = {"base": (None, 3), "dev": ("pulsar-dev", 1), "prod": ("pulsar-prod", 5)}
    assert (broker["metadata"].get("namespace"), broker["spec"]["replicas"]) == expected[
        path.rsplit("/", 1)[-1]]


def test_a_kaap_cluster_in_a_subdirectory_is_discovered(argocd, repo):
    objects = untracked(generate(argocd, repo, "apps/kaap", no_plugin_block=True))
    assert ("StatefulSet", "kaap-broker") in {(o["kind"], o["metadata"]["name"])
                                              for o in objects}


def test_the_applicationset_renders_one_cluster_per_target(argocd, repo):
    appset_file = EXAMPLES / "argocd" / "applicationset.yaml"
    elements = yaml.safe_load(appset_file.read_text())["spec"]["generators"][0]["list"][
        "elements"]
    applications = argocd.generate_applications(appset_file)
    assert [a["metadata"]["name"] for a in applications] == [
        f"pulsar-{e['cluster']}" for e in elements]
    rendered = set()
    for application, element in zip(applications, elements):
        spec = application["spec"]
        assert spec["destination"] == {"server": element["server"],
                                       "namespace": element["namespace"]}
        objects = generate(argocd, repo, spec["source"]["path"], plugin=spec["source"]["plugin"],
                           app_name=application["metadata"]["name"],
                           destination_namespace=spec["destination"]["namespace"])
        assert namespaces(objects) == {element["namespace"]}
        assert images(objects) == {element["image"]}
        rendered.add(json.dumps(untracked(objects, application["metadata"]["name"]),
                                sort_keys=True))
    assert len(rendered) == len(elements), "two targets got the same manifests"


# --- errors ------------------------------------------------------------------------------------


ERRORS = {
    # path, plugin block, exit status, the start of what krm-pulsar or kustomize says
    "bad-spec": ("apps/bad-spec", {"name": "krm-pulsar"}, 1,
                 "krm-pulsar: error: PulsarCluster/pulsar spec.broker.replicas: "),
    "bad-yaml": ("apps/bad-yaml", {}, 1, "krm-pulsar: error: "),
    "bad-parameter": ("examples/argocd/pulsar",
                      {"name": "krm-pulsar",
                       "parameters": [{"name": "namespace", "string": "Not_A_Namespace"}]}, 2,
                      "krm-pulsar: error: --namespace='Not_A_Namespace' is not a valid "
                      "namespace name"),
    "kustomize-parameters": ("examples/kustomize/overlays/dev",
                             {"name": "krm-pulsar",
                              "parameters": [{"name": "namespace", "string": "elsewhere"}]}, 1,
                             "krm-pulsar: error: the image and namespace parameters apply to "
                             "applications without a kustomization"),
    # kustomize passes the function's stderr through before its own error
    "kustomize-bad-base": ("apps/bad-base/overlay", None, 1,
                           "krm-pulsar: error: PulsarCluster/pulsar spec.brokr: unknown field "
                           "'brokr'; did you mean 'broker'?\nError: accumulating resources: "),
}


@pytest.mark.parametrize("case", ERRORS)
def test_errors_reach_the_application_with_our_message_first(argocd, repo, case):
    path, plugin, status, start = ERRORS[case]
    request = {"no_plugin_block": True} if plugin is None else {"plugin": plugin}
    error = generate_error(argocd, repo, path, **request)
    match = GENERATE_FAILED.match(error)
    assert match, error
    assert (match["app"], match["status"]) == ("pulsar", str(status)), error
    assert match["stderr"].startswith(start), error
    assert "Traceback" not in error
    if case == "kustomize-bad-base":
        assert error.endswith("couldn't execute function: exit status 1"), error


def test_naming_the_plugin_for_an_application_that_is_not_ours(argocd, repo):
    error = generate_error(argocd, repo, "apps/not-pulsar", plugin={"name": "krm-pulsar"})
    assert error == ('rpc error: code = Unknown desc = CMP processing failed for application '
                     '"pulsar": could not find cmp-server plugin with name "krm-pulsar" '
                     'supporting the given repository')


# --- applications that are not ours ------------------------------------------------------------


def log_offsets(argocd) -> dict:
    return {p.name: len(p.log_text()) for p in argocd.processes}


def new_log_entries(argocd, offsets) -> dict[str, list[dict]]:
    entries = {}
    for process in argocd.processes:
        lines = process.log_text()[offsets[process.name]:].splitlines()
        entries[process.name] = [json.loads(line) for line in lines if line.startswith("{")]
    return entries


def discover_runs(entries, path) -> list[dict]:
    return [e for e in entries if e.get("msg") == "krm-pulsar-discover"
            and e.get("dir", "").endswith("/" + path)]


def assert_nothing_logged_at_error(entries):
    errors = {name: [e for e in logged if e.get("level") in ("error", "fatal", "panic")]
              for name, logged in entries.items()}
    assert not any(errors.values()), errors


def test_a_repository_of_other_applications_is_left_to_argo_cd(argocd, unrelated_repo,
                                                               kustomize, tmp_path):
    offsets = log_offsets(argocd)
    web = untracked(generate(argocd, unrelated_repo, "web", no_plugin_block=True,
                             app_name="web"), "web")
    # Argo CD's own Directory source type: the two manifests as they are in git
    assert canonical(web) == canonical(gh.load_objects(UNRELATED_DEPLOYMENT + "---\n" +
                                                       UNRELATED_SERVICE))
    built = untracked(generate(argocd, unrelated_repo, "kustomize-web", no_plugin_block=True,
                               app_name="kustomize-web"), "kustomize-web")
    assert {o["metadata"]["name"] for o in built} == {"team-web"}
    entries = new_log_entries(argocd, offsets)
    # our discovery ran for both, said "not mine" (exit 0, no output) and nothing was logged
    # at ERROR by either server
    for path in ("web", "kustomize-web"):
        assert discover_runs(entries["argocd-cmp-server"], path), path
    assert_nothing_logged_at_error(entries)


def test_other_applications_beside_ours_are_left_to_argo_cd(argocd, repo, checkout, kustomize):
    # a repository that holds PulsarClusters: discovery asks kustomize about every kustomization
    offsets = log_offsets(argocd)
    objects = untracked(generate(argocd, repo, "apps/web-kustomize", no_plugin_block=True))
    reference = subprocess.run([kustomize, "build", "."], cwd=checkout / "apps/web-kustomize",
                               capture_output=True, text=True, timeout=60)
    assert canonical(objects) == canonical(gh.load_objects(reference.stdout))
    entries = new_log_entries(argocd, offsets)
    assert discover_runs(entries["argocd-cmp-server"], "apps/web-kustomize")
    assert_nothing_logged_at_error(entries)


def test_a_kustomization_needing_another_plugin_is_not_claimed(argocd, repo):
    # Argo CD's own kustomize build fails on it (as it would without our sidecar); the plugin
    # neither claims it nor fails its discovery
    offsets = log_offsets(argocd)
    error = generate_error(argocd, repo, "apps/other-plugin", no_plugin_block=True)
    assert error.startswith("rpc error: code = Unknown desc = `kustomize build "), error
    assert error.endswith("unable to load external plugin 'SopsSecretGenerator'"), error
    assert "cmp" not in error and "krm-pulsar" not in error
    entries = new_log_entries(argocd, offsets)
    assert discover_runs(entries["argocd-cmp-server"], "apps/other-plugin")
    assert_nothing_logged_at_error({"argocd-cmp-server": entries["argocd-cmp-server"]})


# --- the sidecar in Argo CD's own install.yaml -------------------------------------------------


def test_the_sidecar_component_merges_into_argo_cds_install(argocd_dir, kustomize, tmp_path):
    shutil.copytree(ROOT / "argocd", tmp_path / "argocd")
    install = tmp_path / "install"
    install.mkdir()
    shutil.copy(argocd_dir / "install.yaml", install / "install.yaml")
    (install / "kustomization.yaml").write_text(
        "namespace: argocd\nresources:\n- install.yaml\ncomponents:\n- ../argocd\n")
    out = subprocess.run([kustomize, "build", str(install)], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    objects = gh.load_objects(out.stdout)
    upstream = gh.load_objects((argocd_dir / "install.yaml").read_text())
    assert len(objects) == len(upstream) + 1  # plus the plugin ConfigMap
    assert_valid(objects)

    config_map = next(o for o in objects if o["kind"] == "ConfigMap"
                      and o["metadata"]["name"] == "krm-pulsar-cmp-plugin")
    assert config_map["data"]["plugin.yaml"] == (ROOT / "argocd" / "plugin.yaml").read_text()
    repo_server = next(o for o in objects if o["kind"] == "Deployment"
                       and o["metadata"]["name"] == "argocd-repo-server")
    before = next(o for o in upstream if o["kind"] == "Deployment"
                  and o["metadata"]["name"] == "argocd-repo-server")
    pod, upstream_pod = repo_server["spec"]["template"]["spec"], before["spec"]["template"]["spec"]
    containers = {c["name"]: c for c in pod["containers"]}
    # Argo CD's own container is untouched; ours is added
    assert containers["argocd-repo-server"] == upstream_pod["containers"][0]
    assert set(containers) == {"argocd-repo-server", "krm-pulsar"}
    sidecar = containers["krm-pulsar"]
    # the command exists: Argo CD's copyutil init container links it into var-files
    copyutil = next(c for c in pod["initContainers"] if c["name"] == "copyutil")
    assert "/var/run/argocd/argocd-cmp-server" in " ".join(copyutil["args"])
    assert {"name": "var-files", "mountPath": "/var/run/argocd"} in copyutil["volumeMounts"]
    assert sidecar["command"] == ["/var/run/argocd/argocd-cmp-server"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert all(volumes[v["name"]] == v for v in upstream_pod["volumes"])
    mounts = {m["mountPath"]: m for m in sidecar["volumeMounts"]}
    assert mounts["/var/run/argocd"]["name"] == "var-files"
    # the socket directory the repo-server reads (the same `plugins` volume)
    repo_mounts = {m["mountPath"]: m["name"] for m in containers["argocd-repo-server"][
        "volumeMounts"]}
    assert mounts["/home/argocd/cmp-server/plugins"]["name"] == repo_mounts[
        "/home/argocd/cmp-server/plugins"]
    assert mounts["/home/argocd/cmp-server/config/plugin.yaml"]["subPath"] == "plugin.yaml"
    assert volumes[mounts["/home/argocd/cmp-server/config/plugin.yaml"]["name"]][
        "configMap"]["name"] == "krm-pulsar-cmp-plugin"
    # its own /tmp, not the repo-server's
    assert mounts["/tmp"]["name"] != repo_mounts["/tmp"]
    assert "emptyDir" in volumes[mounts["/tmp"]["name"]]
    # the user Argo CD's image runs as
    assert sidecar["securityContext"]["runAsUser"] == 999
    assert all(m["name"] in volumes for m in sidecar["volumeMounts"])


# --- without the sidecar -----------------------------------------------------------------------


def test_without_the_sidecar_only_a_named_plugin_fails_loudly(argocd_dir, kustomize, repo,
                                                              tmp_path):
    # Why the examples name the plugin: with the cmp-server down, an Application without a
    # plugin block silently becomes a Directory app whose only object is the PulsarCluster
    # (every Pulsar object would then show as to be pruned); a named plugin is an error.
    image = gh.sidecar_image(tmp_path / "image", BIN_DIR, kustomize)
    servers = gh.ArgoCD(tmp_path / "servers", argocd_dir, image, kustomize)
    try:
        servers.start()
        servers.cmp_server.stop()
        objects, error = servers.generate_manifest(
            gh.manifest_request(repo, PLAIN_APP, plugin={"name": "krm-pulsar"}))
        assert objects is None
        assert error.startswith(
            'rpc error: code = Unknown desc = CMP processing failed for application "pulsar": '
            'could not find cmp-server plugin with name "krm-pulsar" supporting the given '
            "repository: error dialing to cmp-server for plugin krm-pulsar.sock: "), error
        objects, error = servers.generate_manifest(
            gh.manifest_request(repo, PLAIN_APP, no_plugin_block=True))
        assert [(o["kind"], o["metadata"]["name"]) for o in objects] == [
            ("PulsarCluster", "pulsar")], error
    finally:
        servers.stop()


def test_an_explicit_kustomize_source_skips_the_plugin(argocd, repo):
    # the Troubleshooting row: a `kustomize:` block is an explicit source type, so Argo CD's
    # own kustomize builds the overlay and refuses the generator
    request = gh.manifest_request(repo, "examples/kustomize/overlays/dev", no_plugin_block=True)
    request["applicationSource"]["kustomize"] = {"commonLabels": {"team": "streaming"}}
    objects, error = argocd.generate_manifest(request)
    assert objects is None
    assert error.startswith("rpc error: code = Unknown desc = `kustomize build <path to cached "
                            "source>/examples/kustomize/overlays/dev"), error
    assert error.endswith("external plugins disabled; unable to load external plugin "
                          "'PulsarCluster'"), error
