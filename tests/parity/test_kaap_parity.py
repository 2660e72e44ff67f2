"""KAAP parity (issue 13): what krm-pulsar writes for KAAP input, compared with what KAAP writes.

Each case is built from KAAP's own material (datastax/kaap, operator 0.4.4, commit f0cf87f0):
the expected outputs of its unit tests (tests/parity/kaap/*.yaml, one file per KAAP test, the
test's spec first), its examples and chart defaults, its OLM example and a spec its migration
tool generated from a Helm install (fixtures/kaap-*.yaml and tests/parity/fixtures/*.yaml, each
naming its source). A difference from KAAP is allowed only where it is listed below with the
reason (docs/features.md, docs/kaap-parity.md), and a listed difference that no longer occurs
fails too. Every case's output validates against the Kubernetes schemas (strict) and
cert-manager's CRDs.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import cert_manager
import pytest
import yaml
from conftest import FIXTURES, object_name, render_without_info, run_cli
from k8s import assert_valid

from krm_pulsar import names

HERE = Path(__file__).resolve().parent
EXPECTED = HERE / "kaap"
PARITY_FIXTURES = HERE / "fixtures"
KAAP_API = "kaap.oss.datastax.com/v1beta1"
OURS_API = "krm-pulsar.io/v1alpha1"
# metadata annotations that are ours alone (the KRM envelope and Argo CD), not KAAP's
OWN_ANNOTATIONS = (names.GENERATED_FROM, names.PATH_ANNOTATION, names.INDEX_ANNOTATION,
                   names.SYNC_WAVE)


# --- helpers ------------------------------------------------------------------------------------


def kaap_test_case(name: str) -> tuple[dict, list[dict]]:
    """``(PulsarCluster, KAAP's expected objects)`` of one tests/parity/kaap file. KAAP's
    controller tests run their spec in namespace ``ns``; so does the PulsarCluster."""
    docs = list(yaml.safe_load_all((EXPECTED / name).read_text()))
    return cluster(docs[0]["kaapTestSpec"]), docs[1:]


def cluster(spec: dict, api_version: str = KAAP_API, namespace: str | None = "ns") -> dict:
    metadata = {"name": spec["global"]["name"]}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": api_version, "kind": "PulsarCluster", "metadata": metadata,
            "spec": copy.deepcopy(spec)}


def render(config: dict) -> tuple[list[dict], list]:
    """Our objects and findings; the objects always validate (Kubernetes, cert-manager)."""
    objects, findings = render_without_info(config)
    assert_schema_valid(objects)
    return objects, findings


def assert_schema_valid(objects: list[dict]) -> None:
    cert_objects = [o for o in objects if o["apiVersion"].startswith("cert-manager.io/")]
    assert_valid([o for o in objects if o not in cert_objects])
    if cert_objects:
        cert_manager.assert_valid(cert_objects)


def errors(findings: list) -> list:
    return [f for f in findings if f.severity == "error"]


def warnings(findings: list) -> dict:
    """path -> the warnings at that path, joined."""
    found: dict = {}
    for f in findings:
        if f.severity == "warning":
            found[f.path] = f"{found[f.path]} | {f.message}" if f.path in found else f.message
    return found


def find(objects: list[dict], kind: str, name: str) -> dict:
    matches = [o for o in objects if o["kind"] == kind and object_name(o) == name]
    assert matches, f"no {kind}/{name} among {[(o['kind'], object_name(o)) for o in objects]}"
    return matches[0]


def as_kaap_writes(value: object) -> object:
    """KAAP's YAML writer leaves number-like strings unquoted, so its tests' expected objects
    hold numbers where Kubernetes has strings (`cpu: 1`, a ConfigMap's `"10"`); compare
    Kubernetes objects with numbers as their decimal strings."""
    if isinstance(value, dict):
        return {k: as_kaap_writes(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_kaap_writes(v) for v in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def comparable(obj: dict) -> dict:
    """The parts of an object KAAP's tests assert: kind, name, labels, annotations (not our
    envelope's), spec or data; functions_worker.yml as the YAML document it holds, types and
    all (its types are what the worker parses, issue 13 item 5)."""
    metadata = obj["metadata"]
    annotations = {k: v for k, v in (metadata.get("annotations") or {}).items()
                   if k not in OWN_ANNOTATIONS}
    result = {"kind": obj["kind"], "metadata": {"name": object_name(obj)}}
    if metadata.get("labels"):
        result["metadata"]["labels"] = metadata["labels"]
    if annotations:
        result["metadata"]["annotations"] = annotations
    for key in obj:
        if key not in ("apiVersion", "kind", "metadata"):
            result[key] = copy.deepcopy(obj[key])
    worker_file = (result.get("data") or {}).get("functions_worker.yml")
    result = as_kaap_writes(result)
    if worker_file is not None:
        result["data"]["functions_worker.yml"] = (
            yaml.safe_load(worker_file) if isinstance(worker_file, str) else worker_file)
    return result


def restricted(ours: dict, kaap: dict) -> dict:
    """Ours with only the sections KAAP's test asserts: a test that checks a ConfigMap's data
    alone (KAAP's `expectedData` maps, written without apiVersion) says nothing about its
    labels."""
    result = {key: value for key, value in ours.items() if key in kaap}
    result["metadata"] = {key: value for key, value in ours["metadata"].items()
                          if key in kaap["metadata"]}
    return result


def differences(kaap: object, ours: object, path: str = "") -> dict:
    """``{path: (KAAP's value, ours)}`` of every difference; a path names a field as
    ``.spec.strategy.rollingUpdate.maxUnavailable``, list items as ``[i]``."""
    found: dict = {}
    if isinstance(kaap, dict) and isinstance(ours, dict):
        for key in sorted(set(kaap) | set(ours)):
            found.update(differences(kaap.get(key, "<absent>"), ours.get(key, "<absent>"),
                                     f"{path}.{key}"))
    elif isinstance(kaap, list) and isinstance(ours, list) and len(kaap) == len(ours):
        for index, (a, b) in enumerate(zip(kaap, ours)):
            found.update(differences(a, b, f"{path}[{index}]"))
    elif kaap != ours:
        found[path] = (kaap, ours)
    return found


def compare(name: str, allowed: dict) -> list[dict]:
    """Render the KAAP test case `name`, compare every object KAAP's test expects with ours;
    the differences must be exactly `allowed` (``{(kind/name, path): reason}``)."""
    config, expected = kaap_test_case(name)
    objects, findings = render(config)
    assert not errors(findings), findings
    found = {}
    for kaap in expected:
        ours = comparable(find(objects, kaap["kind"], kaap["metadata"]["name"]))
        if "apiVersion" not in kaap:   # a test that asserts a ConfigMap's data alone
            ours = restricted(ours, comparable(kaap))
        for path, values in differences(comparable(kaap), ours).items():
            found[(f"{kaap['kind']}/{kaap['metadata']['name']}", path)] = values
    unexplained = {k: v for k, v in found.items() if k not in allowed}
    assert not unexplained, "differences from KAAP without a reason:\n" + "\n".join(
        f"  {where} {path}: KAAP {json.dumps(a)[:200]}, ours {json.dumps(b)[:200]}"
        for (where, path), (a, b) in unexplained.items())
    stale = sorted(set(allowed) - set(found))
    assert not stale, f"listed differences that no longer occur: {stale}"
    return objects


# --- KAAP's unit tests: the objects KAAP writes -------------------------------------------------

# Item 1 (on main since issue 13's first fix): no websocket probes and no PULSAR_MEM by default.
# The one difference: maxUnavailable 1 instead of KAAP's 0 (docs/features.md, Proxies: KAAP's 0
# never progresses under the required host anti-affinity with as many nodes as proxies).
PROXY_DEFAULTS = {
    ("Deployment/pulsar-spec-1-proxy", ".spec.strategy.rollingUpdate.maxUnavailable"):
        "features.md: both API versions roll proxies with maxUnavailable 1",
}


def test_default_proxy_objects_are_kaaps():
    objects = compare("proxy-defaults.yaml", PROXY_DEFAULTS)
    websocket = find(objects, "Deployment", "pulsar-spec-1-proxy")[
        "spec"]["template"]["spec"]["containers"][1]
    assert websocket["name"] == "pulsar-spec-1-proxy-ws"
    assert "livenessProbe" not in websocket and "readinessProbe" not in websocket
    for name in ("pulsar-spec-1-proxy", "pulsar-spec-1-proxy-ws"):
        assert "PULSAR_MEM" not in find(objects, "ConfigMap", name)["data"]


# Items 4 and 5: KAAP's TLS key path /pulsar/certs/tls.key, KAAP's keys as written.
@pytest.mark.parametrize("name", ["broker-tls-bookkeeper.yaml", "bookkeeper-tls.yaml",
                                  "autorecovery-tls.yaml", "proxy-tls.yaml"])
def test_tls_configuration_is_kaaps(name):
    compare(name, {})


# Item 5: functions_worker.yml with KAAP's types (numbers as integers, "true" as strings).
FUNCTIONS_WORKER_DEFAULTS = {
    ("Service/pulsar-spec-1-function", ".spec.publishNotReadyAddresses"):
        "ours: the workers' DNS names must resolve while a worker is not ready "
        "(functions_worker.py)",
    **{(f"{kind}/pulsar-spec-1-function", ".metadata.labels"):
       "features.md: RBAC objects carry the component labels (KAAP: none)"
       for kind in ("ServiceAccount", "Role", "RoleBinding")},
    ("RoleBinding/pulsar-spec-1-function", ".roleRef.apiGroup"):
        "the RBAC API requires roleRef.apiGroup; KAAP's test expects none",
}


def test_default_functions_worker_objects_are_kaaps():
    objects = compare("functions-worker-defaults.yaml", FUNCTIONS_WORKER_DEFAULTS)
    worker = yaml.safe_load(find(objects, "ConfigMap", "pulsar-spec-1-function")["data"][
        "functions_worker.yml"])
    assert worker["workerPort"] == 6750 and worker["numFunctionPackageReplicas"] == 2
    assert worker["includeStandardPrometheusMetrics"] == "true"


FUNCTIONS_WORKER_TLS = {
    ("ConfigMap/pul-function", f".data.functions_worker.yml.{key}"):
        "docs/tls.md: the worker trusts the brokers through PEM (tlsTrustCertsFilePath), not "
        "KAAP's JKS stores"
    for key in ("tlsEnabledWithKeyStore", "tlsKeyStore", "tlsTrustStore")}


def test_functions_worker_tls_is_kaaps():
    compare("functions-worker-tls-bookkeeper.yaml", FUNCTIONS_WORKER_TLS)


def test_bookie_command_is_kaaps_with_tls():
    """The bookie's main container converts the key as KAAP's does (BookKeeperControllerTest
    .testTlsEnabledOnBookKeeper asserts this command), although KAAP's bookie then reads
    /pulsar/certs/tls.key (the ConfigMap compared above)."""
    config, _ = kaap_test_case("bookkeeper-tls.yaml")
    objects, _ = render(config)
    container = find(objects, "StatefulSet", "pul-bookkeeper")["spec"]["template"]["spec"][
        "containers"][0]
    assert container["args"] == [
        "bin/apply-config-from-env.py conf/bookkeeper.conf && openssl pkcs8 -topk8 -inform PEM "
        "-outform PEM -in /pulsar/certs/tls.key -out /pulsar/tls-pk8.key -nocrypt && "
        'OPTS="${OPTS} -Dlog4j2.formatMsgNoLookups=true" exec bin/pulsar bookie']


def test_our_api_version_reads_the_pkcs8_copy():
    """Item 4, our API version: the same spec points every Pulsar and BookKeeper key path at
    the PKCS#8 copy and asks bookies for client certificates under the bookie's key names."""
    config, _ = kaap_test_case("broker-tls-bookkeeper.yaml")
    config["apiVersion"] = OURS_API
    config["spec"]["global"]["tls"]["autorecovery"] = {"enabled": True}
    objects, _ = render(config)
    paths = {}
    for obj in objects:
        if obj["kind"] == "ConfigMap":
            for key in ("PULSAR_PREFIX_tlsKeyFilePath", "PULSAR_PREFIX_tlsKeyStore",
                        "PULSAR_PREFIX_bookkeeperTLSKeyFilePath"):
                if key in obj["data"]:
                    paths[(obj["metadata"]["name"], key)] = obj["data"][key]
    assert paths == {("pul-broker", "PULSAR_PREFIX_tlsKeyFilePath"): "/pulsar/tls-pk8.key",
                     ("pul-broker", "PULSAR_PREFIX_bookkeeperTLSKeyFilePath"):
                         "/pulsar/tls-pk8.key",
                     ("pul-bookkeeper", "PULSAR_PREFIX_tlsKeyStore"): "/pulsar/tls-pk8.key",
                     ("pul-autorecovery", "PULSAR_PREFIX_tlsKeyStore"): "/pulsar/tls-pk8.key"}
    bookie = find(objects, "ConfigMap", "pul-bookkeeper")["data"]
    assert bookie["PULSAR_PREFIX_tlsClientAuthentication"] == "true"
    assert "PULSAR_PREFIX_bookkeeperTLSClientAuthentication" not in bookie


# --- KAAP's real specs: examples, chart defaults, OLM, migration tool ---------------------------

REAL_SPECS = [FIXTURES / "kaap-cert-manager-self-signed.yaml",
              FIXTURES / "kaap-olm-dev-cluster.yaml",
              PARITY_FIXTURES / "kaap-chart-defaults.yaml"]


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


@pytest.mark.parametrize("path", REAL_SPECS, ids=lambda p: p.name)
def test_kaaps_own_specs_render_valid_output(path):
    objects, findings = render(load(path))
    assert not errors(findings), findings
    assert {o["kind"] for o in objects} >= {"StatefulSet", "Deployment", "ConfigMap", "Service"}


def test_kaaps_tls_example_reads_kaaps_key_paths():
    """Item 4 on KAAP's cert-manager example: every component reads /pulsar/certs/tls.key as
    KAAP configures it (the broker's with KAAP's leading blank), and the Certificates ask for
    the PKCS#8 keys Pulsar reads; each component's Secret gets a Certificate."""
    objects, _ = render(load(FIXTURES / "kaap-cert-manager-self-signed.yaml"))
    data = {o["metadata"]["name"]: o["data"] for o in objects if o["kind"] == "ConfigMap"}
    assert data["pulsar-broker"]["PULSAR_PREFIX_tlsKeyFilePath"] == " /pulsar/certs/tls.key"
    assert data["pulsar-broker"]["PULSAR_PREFIX_bookkeeperTLSKeyFilePath"] == \
        "/pulsar/certs/tls.key"
    for name in ("pulsar-proxy", "pulsar-proxy-ws"):
        assert data[name]["PULSAR_PREFIX_tlsKeyFilePath"] == "/pulsar/certs/tls.key"
    for name in ("pulsar-bookkeeper", "pulsar-autorecovery"):
        assert data[name]["PULSAR_PREFIX_tlsKeyStore"] == "/pulsar/certs/tls.key"
    worker = yaml.safe_load(data["pulsar-function"]["functions_worker.yml"])
    assert worker["tlsKeyFilePath"] == "/pulsar/certs/tls.key"
    certificates = {o["spec"]["secretName"]: o["spec"] for o in objects
                    if o["kind"] == "Certificate" and not o["spec"].get("isCA")}
    assert set(certificates) == {"zk-tls", "bk-tls", "broker-tls", "proxy-tls",
                                 "autorecovery-tls", "fnw-tls"}
    assert all(c["privateKey"]["encoding"] == "PKCS8" for c in certificates.values())


def test_kaaps_worker_example_keeps_its_numbers():
    """Item 5 on KAAP's OLM example: its own `numFunctionPackageReplicas: 1` and the nested
    resources keep their types; KAAP's defaults are integers."""
    objects, _ = render(load(FIXTURES / "kaap-olm-dev-cluster.yaml"))
    worker = yaml.safe_load(find(objects, "ConfigMap", "pulsar-function")["data"][
        "functions_worker.yml"])
    assert worker["numFunctionPackageReplicas"] == 1
    assert worker["functionInstanceMaxResources"] == {"disk": 10000000000, "ram": 500000000,
                                                      "cpu": 0.3}
    assert worker["workerPort"] == 6750 and worker["failureCheckFreqMs"] == 30000


# Item 3: the migration tool's custom token roles.
MIGRATION = PARITY_FIXTURES / "kaap-migration-tool.yaml"


def migration_auth_cluster(api_version: str) -> dict:
    """The migration tool's `global.auth` and `global.tls` on KAAP's OLM example (the rest of
    the tool's spec is KAAP's only through its integers, below)."""
    generated = load(MIGRATION)["spec"]["global"]
    config = load(FIXTURES / "kaap-olm-dev-cluster.yaml")
    config["apiVersion"] = api_version
    config["spec"]["global"]["auth"] = generated["auth"]
    config["spec"]["global"]["tls"] = generated["tls"]
    return config


def test_custom_token_roles_render_with_warnings_for_kaap_input():
    """KAAP accepts superUserRoles [admin, create-tenant, superuser-backup] and proxyRoles
    [create-tenant]; so does KAAP input, with one warning per consequence, and the brokers get
    the roles as KAAP writes them (sorted, comma separated)."""
    auth = load(MIGRATION)["spec"]["global"]["auth"]["token"]
    assert auth["superUserRoles"] == ["admin", "create-tenant", "superuser-backup"]
    objects, findings = render(migration_auth_cluster(KAAP_API))
    assert not errors(findings), findings
    found = warnings(findings)
    assert "token-superuser" in found["spec.global.auth.token.superUserRoles"]
    assert "never become Ready" in found["spec.global.auth.token.superUserRoles"]
    assert "refuse the clients' connections" in found["spec.global.auth.token.proxyRoles"]
    broker = find(objects, "ConfigMap", "pulsar-broker")["data"]
    assert broker["PULSAR_PREFIX_superUserRoles"] == "admin,create-tenant,superuser-backup"
    assert broker["PULSAR_PREFIX_proxyRoles"] == "create-tenant"


def test_custom_token_roles_are_refused_for_our_api_version():
    _, findings = render_without_info(migration_auth_cluster(OURS_API))
    assert {f.path for f in errors(findings)} == {"spec.global.auth.token.superUserRoles",
                                                  "spec.global.auth.token.proxyRoles"}


def test_the_migration_tools_spec_is_refused_with_field_paths_or_renders_valid_output():
    """The whole generated spec: the tool writes integers where Kubernetes and KAAP's CRD want
    strings (`prometheus.io/port: 8000`, env `value: 2`, `dnsConfig` `value: 4`). Whatever the
    decision on those (issue 13 item 2), the output is never invalid: either errors that name
    the field, or output that validates and keeps the roles as warnings."""
    objects, findings = render_without_info(load(MIGRATION))
    if errors(findings):
        assert not objects
        assert all(f.path.startswith("spec.") and "expected" in f.message
                   for f in errors(findings)), errors(findings)
    else:
        assert_schema_valid(objects)
        assert "spec.global.auth.token.superUserRoles" in warnings(findings)


# Item 6: selfSigned.<component>.secretName and set-level autoscalers.
PER_COMPONENT = {  # CertManagerCertificatesProvisionerTest.testGeneratePerComponent's spec
    "global": {
        "name": "pul", "dnsName": "example.localhost",
        "tls": {"enabled": True,
                "broker": {"enabled": True, "secretName": "pul-broker-tls"},
                "bookkeeper": {"enabled": True, "secretName": "pul-bookeeper-tls"},
                "zookeeper": {"enabled": True, "secretName": "pul-zookeeper-tls"},
                "proxy": {"enabled": True, "secretName": "pul-proxy-tls"},
                "functionsWorker": {"enabled": True, "secretName": "pul-function-tls"},
                "certProvisioner": {"selfSigned": {
                    "enabled": True, "perComponent": True,
                    **{c: {"generate": True} for c in ("broker", "bookkeeper", "zookeeper",
                                                        "proxy", "functionsWorker")}}}}},
    "functionsWorker": {"replicas": 1},
}


def certificate_secrets(objects: list[dict]) -> set:
    return {o["spec"]["secretName"] for o in objects
            if o["kind"] == "Certificate" and not o["spec"].get("isCA")}


def test_per_component_certificates_write_kaaps_secrets():
    """KAAP's test expects a Certificate for each of the five Secrets; ours also issues the
    client certificate of autorecovery, a bookie TLS client that mounts the default Secret
    (docs/tls.md: every Secret a pod mounts gets a Certificate)."""
    objects, findings = render(cluster(PER_COMPONENT))
    assert not errors(findings)
    assert certificate_secrets(objects) == {"pul-broker-tls", "pul-bookeeper-tls",
                                            "pul-zookeeper-tls", "pul-proxy-tls",
                                            "pul-function-tls", "pulsar-tls"}
    client = find(objects, "Certificate", "pulsar-tls")["spec"]
    assert client["usages"] == ["client auth"] and client["commonName"] == "autorecovery"


def test_self_signed_secret_name_names_the_certificates_secret():
    """KAAP (CertManagerCertificatesProvisioner) writes a component's certificate into
    selfSigned.<component>.secretName, falling back to tls.<component>.secretName; its pods
    mount tls.<component>.secretName. A warning says the mounted Secret is then nobody's."""
    spec = copy.deepcopy(PER_COMPONENT)
    self_signed = spec["global"]["tls"]["certProvisioner"]["selfSigned"]
    self_signed["broker"]["secretName"] = "pul-broker-cert"
    self_signed["proxy"]["secretName"] = "pul-proxy-tls"   # the same as mounted: no warning
    objects, findings = render(cluster(spec))
    assert "pul-broker-cert" in certificate_secrets(objects)
    assert "pul-broker-tls" not in certificate_secrets(objects)
    assert find(objects, "Certificate", "pul-broker-cert")["spec"]["secretName"] == \
        "pul-broker-cert"
    mounted = {v["secret"]["secretName"] for v in find(objects, "StatefulSet", "pul-broker")[
        "spec"]["template"]["spec"]["volumes"] if "secret" in v}
    assert "pul-broker-tls" in mounted
    found = warnings(findings)
    path = "spec.global.tls.certProvisioner.selfSigned.broker.secretName"
    assert "'pul-broker-tls'" in found[path] and "'pul-broker-cert'" in found[path]
    assert "spec.global.tls.certProvisioner.selfSigned.proxy.secretName" not in found


def test_self_signed_secret_name_without_per_component_has_no_effect():
    spec = copy.deepcopy(PER_COMPONENT)
    self_signed = spec["global"]["tls"]["certProvisioner"]["selfSigned"]
    self_signed["perComponent"] = False
    self_signed["broker"]["secretName"] = "pul-broker-cert"
    objects, findings = render(cluster(spec))
    assert "pul-broker-cert" not in certificate_secrets(objects)
    assert "no effect" in warnings(findings)[
        "spec.global.tls.certProvisioner.selfSigned.broker.secretName"]


def test_set_level_autoscalers_warn_like_the_top_level():
    """KAAP runs an autoscaler per broker and bookie set (BrokerSetAutoscaler,
    BookKeeperSetAutoscaler); a static renderer cannot, so each set's own one warns."""
    spec = {"global": {"name": "pul", "resourceSets": {"set1": {}, "set2": {}}},
            "bookkeeper": {"sets": {"set1": {"autoscaler": {"enabled": True}}, "set2": {}}},
            "broker": {"sets": {"set1": {}, "set2": {"autoscaler": {"enabled": True}}}}}
    objects, findings = render(cluster(spec))
    assert not errors(findings)
    found = warnings(findings)
    assert "spec.bookkeeper.sets.set1.autoscaler.enabled" in found
    assert "spec.broker.sets.set2.autoscaler.enabled" in found
    assert not any(path.endswith(("set2.autoscaler.enabled", "set1.autoscaler.enabled"))
                   and path.startswith(("spec.bookkeeper.sets.set2", "spec.broker.sets.set1"))
                   for path in found)
    assert find(objects, "StatefulSet", "pul-broker-set2")["spec"]["replicas"] == 3


# Item 7: KAAP's examples that nest every component under spec.global.
@pytest.mark.parametrize("fixture", ["kaap-keycloak.yaml", "kaap-tiered-storage.yaml"])
def test_components_under_global_are_refused_with_where_they_belong(fixture):
    result = run_cli(["render", str(PARITY_FIXTURES / fixture)])
    assert result.returncode != 0 and not result.stdout
    lines = result.stderr.decode().splitlines()
    misplaced = [line for line in lines if "is a section of spec, not of spec.global" in line]
    assert {line.split()[3] for line in misplaced} >= {
        "spec.global.zookeeper:", "spec.global.bookkeeper:", "spec.global.broker:",
        "spec.global.proxy:"}
    assert all("move it directly under spec (spec." in line for line in misplaced)
    assert len(misplaced) == len(lines), lines   # nothing else is wrong with these examples
