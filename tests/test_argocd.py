"""The Argo CD config-management plugin (argocd/plugin.yaml), run as Argo CD runs it.

The discover and generate commands are taken from plugin.yaml as written and run in an
application directory with the environment the CMP server gives them: the sidecar's own
environment, the build environment (ARGOCD_APP_*), plugin env as ARGOCD_ENV_<NAME> and
parameters as ARGOCD_APP_PARAMETERS (JSON) plus PARAM_<NAME>.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest
import yaml

from conftest import BIN_DIR, ROOT
from k8s import assert_valid

PLUGIN = ROOT / "argocd" / "plugin.yaml"
APP_DIR = ROOT / "examples" / "argocd" / "pulsar"
PULSAR_IMAGE_DEFAULT = "apachepulsar/pulsar:"

# Every annotation an orchestrator uses internally; none may reach the cluster.
INTERNAL_ANNOTATION = re.compile(
    r"^(internal\.config\.kubernetes\.io/|config\.kubernetes\.io/(path|index|local-config|function)"
    r"|config\.k8s\.io/id|kustomize\.config\.k8s\.io/)")


def plugin() -> dict:
    return yaml.safe_load(PLUGIN.read_text())


def argv(section: dict) -> list[str]:
    """command + args, exactly as the CMP server concatenates them."""
    return [*section["command"], *section.get("args", [])]


def param_env(parameters: list[dict]) -> dict:
    """Argo CD's encoding of spec.source.plugin.parameters."""
    env = {"ARGOCD_APP_PARAMETERS": json.dumps(parameters)}
    for param in parameters:
        name = "PARAM_" + re.sub(r"[-.]", "_", param["name"]).upper()
        if "string" in param:
            env[name] = param["string"]
        for index, value in enumerate(param.get("array", [])):
            env[f"{name}_{index}"] = value
        for key, value in param.get("map", {}).items():
            env[f"{name}_{re.sub(r'[-.]', '_', key).upper()}"] = value
    return env


def cmp_env(tmp_path, app_name="pulsar", app_namespace="argocd", plugin_env=None,
            parameters=None, kustomize=None) -> dict:
    """The sidecar's environment (a minimal image: no inherited developer variables) plus the
    build environment Argo CD adds for one application. Like the sidecar image, PATH holds
    krm-pulsar and (when given) kustomize."""
    tools = [str(BIN_DIR)] + ([os.path.dirname(kustomize)] if kustomize else [])
    env = {
        "PATH": ":".join([*tools, "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": str(tmp_path / "home"),
        "ARGOCD_APP_NAME": app_name,
        "ARGOCD_APP_NAMESPACE": app_namespace,
        "ARGOCD_APP_PROJECT_NAME": "default",
        "ARGOCD_APP_REVISION": "0123456789abcdef0123456789abcdef01234567",
        "ARGOCD_APP_REVISION_SHORT": "0123456",
        "ARGOCD_APP_SOURCE_PATH": "examples/argocd/pulsar",
        "ARGOCD_APP_SOURCE_REPO_URL": "https://github.com/krm-pulsar/krm-pulsar.git",
        "ARGOCD_APP_SOURCE_TARGET_REVISION": "main",
        "KUBE_VERSION": "1.31.0",
        "KUBE_API_VERSIONS": "v1,apps/v1,policy/v1,batch/v1",
    }
    for name, value in (plugin_env or {}).items():
        env[f"ARGOCD_ENV_{name}"] = value
    env.update(param_env(parameters or []))
    return env


def run(section: dict, cwd, env) -> subprocess.CompletedProcess:
    return subprocess.run(argv(section), cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=90)  # ARGOCD_EXEC_TIMEOUT's default


def app(tmp_path, source=APP_DIR):
    """A copy of an application directory, as the repo-server unpacks it for the sidecar."""
    target = tmp_path / "app"
    shutil.copytree(source, target)
    (tmp_path / "home").mkdir(exist_ok=True)
    return target


def assert_object_stream(stdout: str) -> list[dict]:
    """stdout is only Kubernetes objects: no ResourceList, no PulsarCluster, nothing
    local-config, no orchestrator annotations; every object valid."""
    docs = [doc for doc in yaml.safe_load_all(stdout) if doc is not None]
    assert docs, "empty output would make Argo CD prune the application"
    for doc in docs:
        assert isinstance(doc, dict) and doc.get("apiVersion") and doc.get("kind"), doc
        assert doc["kind"] not in ("ResourceList", "PulsarCluster", "Kustomization"), doc["kind"]
        annotations = doc["metadata"].get("annotations") or {}
        leaked = [key for key in annotations if INTERNAL_ANNOTATION.match(key)]
        assert not leaked, (doc["kind"], doc["metadata"]["name"], leaked)
    assert_valid(docs)
    return docs


def images(docs) -> set[str]:
    found = set()
    for doc in docs:
        pod = doc.get("spec", {}).get("template", {}).get("spec", {})
        if doc["kind"] == "Job":
            pod = doc["spec"]["template"]["spec"]
        for container in pod.get("containers", []) + pod.get("initContainers", []):
            found.add(container["image"])
    return found


# --- the plugin file ----------------------------------------------------------------------------


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


# --- discover -----------------------------------------------------------------------------------


def test_discover_finds_an_app_with_a_pulsar_cluster(tmp_path):
    directory = app(tmp_path)
    out = run(plugin()["spec"]["discover"]["find"], directory, cmp_env(tmp_path))
    assert out.returncode == 0 and out.stdout.strip() == "./pulsar-cluster.yaml", out


def test_discover_finds_a_kaap_cluster_in_a_subdirectory(tmp_path):
    directory = tmp_path / "app"
    (directory / "clusters").mkdir(parents=True)
    (tmp_path / "home").mkdir()
    (directory / "clusters" / "kaap.yml").write_text(
        "apiVersion: kaap.oss.datastax.com/v1beta1\nkind: \"PulsarCluster\" # KAAP's\nmetadata:\n"
        "  name: p\nspec:\n  global:\n    name: p\n")
    out = run(plugin()["spec"]["discover"]["find"], directory, cmp_env(tmp_path))
    assert out.returncode == 0 and out.stdout.strip() == "./clusters/kaap.yml"


def test_discover_ignores_other_apps(tmp_path):
    directory = tmp_path / "app"
    (directory / ".git").mkdir(parents=True)
    (tmp_path / "home").mkdir()
    (directory / "deployment.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
        "# kind: PulsarCluster is only mentioned in a comment\n")
    # a PulsarCluster in git metadata or in a non-YAML file is not an app of ours
    (directory / ".git" / "stash.yaml").write_text("kind: PulsarCluster\n")
    (directory / "notes.txt").write_text("kind: PulsarCluster\n")
    out = run(plugin()["spec"]["discover"]["find"], directory, cmp_env(tmp_path))
    # find.command must exit 0 *and* print something for Argo CD to pick the plugin
    assert out.returncode != 0 or out.stdout.strip() == ""


# --- generate -----------------------------------------------------------------------------------


def test_generate_prints_only_kubernetes_objects(tmp_path):
    directory = app(tmp_path)
    out = run(plugin()["spec"]["generate"], directory, cmp_env(tmp_path))
    assert out.returncode == 0, out.stderr
    docs = assert_object_stream(out.stdout)
    names = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert ("StatefulSet", "pulsar-broker") in names and ("Deployment", "pulsar-proxy") in names
    # no namespace parameter: objects stay unnamespaced, Argo CD puts them in the destination
    assert all("namespace" not in d["metadata"] for d in docs)
    assert all(image.startswith(PULSAR_IMAGE_DEFAULT) for image in images(docs))


def test_generate_applies_the_ui_parameters(tmp_path):
    directory = app(tmp_path)
    env = cmp_env(tmp_path, parameters=[
        {"name": "image", "string": "registry.example.com/pulsar:4.0.12-patched"},
        {"name": "namespace", "string": "streaming"},
    ])
    out = run(plugin()["spec"]["generate"], directory, env)
    assert out.returncode == 0, out.stderr
    docs = assert_object_stream(out.stdout)
    assert {d["metadata"].get("namespace") for d in docs} == {"streaming"}
    assert images(docs) == {"registry.example.com/pulsar:4.0.12-patched"}
    broker = next(d for d in docs if d["kind"] == "ConfigMap"
                  and d["metadata"]["name"] == "pulsar-broker")
    # with a namespace the addresses between components are fully qualified
    assert ".streaming.svc." in broker["data"]["PULSAR_PREFIX_zookeeperServers"]


def test_generate_reads_plugin_env_and_parameters_win(tmp_path):
    directory = app(tmp_path)
    env = cmp_env(tmp_path, plugin_env={"PULSAR_IMAGE": "env.example.com/pulsar:1",
                                        "PULSAR_NAMESPACE": "from-env"},
                  parameters=[{"name": "namespace", "string": "from-param"}])
    out = run(plugin()["spec"]["generate"], directory, env)
    assert out.returncode == 0, out.stderr
    docs = assert_object_stream(out.stdout)
    assert images(docs) == {"env.example.com/pulsar:1"}
    assert {d["metadata"].get("namespace") for d in docs} == {"from-param"}


def test_generate_treats_empty_parameters_as_unset(tmp_path):
    # the UI sends parameters the user cleared as empty strings
    directory = app(tmp_path)
    env = cmp_env(tmp_path, parameters=[{"name": "image", "string": ""},
                                        {"name": "namespace", "string": ""}])
    out = run(plugin()["spec"]["generate"], directory, env)
    assert out.returncode == 0, out.stderr
    docs = assert_object_stream(out.stdout)
    assert all("namespace" not in d["metadata"] for d in docs)


@pytest.mark.parametrize("case", ["bad-spec", "bad-parameter", "no-cluster", "bad-yaml"])
def test_generate_failure_exits_non_zero_with_empty_stdout(tmp_path, case):
    directory = app(tmp_path)
    parameters = []
    config = directory / "pulsar-cluster.yaml"
    if case == "bad-spec":
        config.write_text(config.read_text().replace("replicas: 2", "replicas: -1", 1))
    elif case == "bad-parameter":
        parameters = [{"name": "namespace", "string": "Not_A_Namespace"}]
    elif case == "no-cluster":
        config.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")
    else:
        config.write_text(config.read_text() + "  broker: [unclosed\n")
    out = run(plugin()["spec"]["generate"], directory, cmp_env(tmp_path, parameters=parameters))
    assert out.returncode != 0
    assert out.stdout == "", "an empty success (or partial output) would prune the app"
    assert out.stderr.startswith("krm-pulsar: error: "), out.stderr
    assert "Traceback" not in out.stderr


def test_generate_in_a_kustomize_app_runs_kustomize_with_the_function(kustomize, tmp_path):
    # A base + overlay app: the overlay has a kustomization, the PulsarCluster is its
    # generator (in the base). The sidecar image has kustomize for this.
    shutil.copytree(ROOT / "examples" / "kustomize", tmp_path / "repo")
    (tmp_path / "home").mkdir()
    directory = tmp_path / "repo" / "overlays" / "prod"
    out = run(plugin()["spec"]["generate"], directory, cmp_env(tmp_path, kustomize=kustomize))
    assert out.returncode == 0, out.stderr
    docs = assert_object_stream(out.stdout)
    broker = next(d for d in docs if d["kind"] == "StatefulSet"
                  and d["metadata"]["name"] == "pulsar-broker")
    assert broker["metadata"]["namespace"] == "pulsar-prod" and broker["spec"]["replicas"] == 5


def test_generate_in_a_kustomize_app_refuses_parameters(kustomize, tmp_path):
    shutil.copytree(ROOT / "examples" / "kustomize", tmp_path / "repo")
    (tmp_path / "home").mkdir()
    directory = tmp_path / "repo" / "overlays" / "dev"
    env = cmp_env(tmp_path, parameters=[{"name": "namespace", "string": "elsewhere"}],
                  kustomize=kustomize)
    out = run(plugin()["spec"]["generate"], directory, env)
    assert out.returncode != 0 and out.stdout == ""
    assert "set images: and namespace: there" in out.stderr


def test_generate_in_a_kustomize_app_fails_loudly(kustomize, tmp_path):
    shutil.copytree(ROOT / "examples" / "kustomize", tmp_path / "repo")
    (tmp_path / "home").mkdir()
    config = tmp_path / "repo" / "base" / "pulsar-cluster.yaml"
    config.write_text(config.read_text() + "  brokr: {}\n")
    out = run(plugin()["spec"]["generate"], tmp_path / "repo" / "overlays" / "dev",
              cmp_env(tmp_path, kustomize=kustomize))
    assert out.returncode != 0 and out.stdout == ""
    assert "unknown field 'brokr'" in out.stderr


# --- Application and ApplicationSet examples ----------------------------------------------------


def go_template(text: str, values: dict) -> str:
    """The `{{.key}}` subset of Go templates the example uses; a missing key fails, as
    missingkey=error does."""
    def value(match):
        return str(values[match.group(1)])
    return re.sub(r"\{\{\s*\.(\w+)\s*\}\}", value, text)


def test_application_example_renders_with_its_env_and_parameters(tmp_path):
    application = yaml.safe_load((ROOT / "examples" / "argocd" / "application.yaml").read_text())
    source = application["spec"]["source"]
    assert source["plugin"]["name"] == plugin()["metadata"]["name"]
    directory = app(tmp_path, ROOT / source["path"])
    env = cmp_env(tmp_path, app_name=application["metadata"]["name"],
                  plugin_env={e["name"]: e["value"] for e in source["plugin"]["env"]},
                  parameters=source["plugin"]["parameters"])
    out = run(plugin()["spec"]["generate"], directory, env)
    assert out.returncode == 0, out.stderr
    docs = assert_object_stream(out.stdout)
    assert {d["metadata"]["namespace"] for d in docs} == {
        application["spec"]["destination"]["namespace"]}
    assert images(docs) == {source["plugin"]["env"][0]["value"]}


def test_applicationset_renders_one_cluster_per_target_with_its_own_parameters(tmp_path):
    appset = yaml.safe_load((ROOT / "examples" / "argocd" / "applicationset.yaml").read_text())
    assert appset["spec"]["goTemplateOptions"] == ["missingkey=error"]
    elements = appset["spec"]["generators"][0]["list"]["elements"]
    assert len(elements) >= 2
    template = yaml.safe_dump(appset["spec"]["template"])
    rendered = {}
    for element in elements:
        application = yaml.safe_load(go_template(template, element))
        source = application["spec"]["source"]
        assert source["plugin"]["name"] == "krm-pulsar"
        assert application["spec"]["destination"]["server"] == element["server"]
        case = tmp_path / element["cluster"]
        case.mkdir()
        directory = app(case, ROOT / source["path"])
        env = cmp_env(case, app_name=application["metadata"]["name"],
                      parameters=source["plugin"]["parameters"])
        out = run(plugin()["spec"]["generate"], directory, env)
        assert out.returncode == 0, out.stderr
        docs = assert_object_stream(out.stdout)
        assert {d["metadata"]["namespace"] for d in docs} == {element["namespace"]}
        assert images(docs) == {element["image"]}
        rendered[application["metadata"]["name"]] = out.stdout
    assert len(rendered) == len(elements)
    assert len(set(rendered.values())) == len(elements), "each target got the same manifests"


# --- the sidecar --------------------------------------------------------------------------------

REPO_SERVER_STUB = """\
# The parts of Argo CD's own argocd-repo-server Deployment the sidecar relies on.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: argocd-repo-server
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: argocd-repo-server
  template:
    metadata:
      labels:
        app.kubernetes.io/name: argocd-repo-server
    spec:
      containers:
      - name: argocd-repo-server
        image: quay.io/argoproj/argocd:v3.1.0
        volumeMounts:
        - name: var-files
          mountPath: /var/run/argocd
        - name: plugins
          mountPath: /home/argocd/cmp-server/plugins
        - name: tmp
          mountPath: /tmp
      volumes:
      - name: var-files
        emptyDir: {}
      - name: plugins
        emptyDir: {}
      - name: tmp
        emptyDir: {}
"""


def test_sidecar_component_patches_the_repo_server(kustomize, tmp_path):
    shutil.copytree(ROOT / "argocd", tmp_path / "argocd")
    install = tmp_path / "install"
    install.mkdir()
    (install / "repo-server.yaml").write_text(REPO_SERVER_STUB)
    (install / "kustomization.yaml").write_text(
        "namespace: argocd\nresources:\n- repo-server.yaml\ncomponents:\n- ../argocd\n")
    out = subprocess.run([kustomize, "build", str(install)], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    docs = list(yaml.safe_load_all(out.stdout))
    assert_valid(docs)
    config_map = next(d for d in docs if d["kind"] == "ConfigMap")
    assert yaml.safe_load(config_map["data"]["plugin.yaml"]) == plugin()
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    containers = {c["name"]: c for c in pod["containers"]}
    assert set(containers) == {"argocd-repo-server", "krm-pulsar"}
    sidecar = containers["krm-pulsar"]
    assert sidecar["command"] == ["/var/run/argocd/argocd-cmp-server"]
    assert sidecar["securityContext"]["runAsUser"] == 999
    assert sidecar["securityContext"]["runAsNonRoot"] is True
    mounts = {m["mountPath"]: m for m in sidecar["volumeMounts"]}
    assert mounts["/var/run/argocd"]["name"] == "var-files"
    assert mounts["/home/argocd/cmp-server/plugins"]["name"] == "plugins"
    assert mounts["/home/argocd/cmp-server/config/plugin.yaml"]["subPath"] == "plugin.yaml"
    volumes = {v["name"]: v for v in pod["volumes"]}
    # its own /tmp, not the repo-server's
    assert mounts["/tmp"]["name"] != "tmp" and "emptyDir" in volumes[mounts["/tmp"]["name"]]
    assert volumes[mounts["/home/argocd/cmp-server/config/plugin.yaml"]["name"]][
        "configMap"]["name"] == config_map["metadata"]["name"]
