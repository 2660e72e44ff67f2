"""KAAP parity (issue 13): what krm-pulsar writes for KAAP input, against what KAAP writes.

The specs are ours: small PulsarClusters written for these tests (inline below, and
fixtures/kaap-style-*.yaml, tests/parity/fixtures/kaap-style-*.yaml) in the shapes KAAP users
write: TLS per component, cert-manager's self-signed certificates per component, a development
cluster with a functions worker on the kubernetes runtime, the chart-default spec, a spec
generated from a Helm install, component sections misplaced under spec.global. What KAAP writes
for them is restated in tests/parity/expected.py from docs/kaap-parity.md (which cites KAAP's
source files it was read from). A difference from KAAP is allowed only where it is listed below
with the reason (docs/features.md, docs/kaap-parity.md), and a listed difference that no longer
occurs fails too. Every case's output validates against the Kubernetes schemas (strict) and
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

from . import expected as kaap

HERE = Path(__file__).resolve().parent
PARITY_FIXTURES = HERE / "fixtures"
KAAP_API = "kaap.oss.datastax.com/v1beta1"
OURS_API = "krm-pulsar.io/v1alpha1"
NS = "parity"
IMAGE = "apachepulsar/pulsar:3.0.7"
ABSENT = "<absent>"
# metadata annotations that are ours alone (the KRM envelope and Argo CD), not KAAP's
OWN_ANNOTATIONS = (names.GENERATED_FROM, names.PATH_ANNOTATION, names.INDEX_ANNOTATION,
                   names.SYNC_WAVE)


# --- helpers ------------------------------------------------------------------------------------


def cluster(spec: dict, api_version: str = KAAP_API, namespace: str | None = NS) -> dict:
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


def comparable(obj: dict) -> dict:
    """An object as the expectations state it: metadata without our envelope's annotations,
    functions_worker.yml as the YAML document it holds, types and all (its types are what the
    worker parses, issue 13 item 5)."""
    result = copy.deepcopy(obj)
    metadata = result["metadata"]
    annotations = {k: v for k, v in (metadata.get("annotations") or {}).items()
                   if k not in OWN_ANNOTATIONS}
    metadata.pop("annotations", None)
    if annotations:
        metadata["annotations"] = annotations
    worker_file = (result.get("data") or {}).get("functions_worker.yml")
    if isinstance(worker_file, str):
        result["data"]["functions_worker.yml"] = yaml.safe_load(worker_file)
    return result


def differences(kaap_value: object, ours: object, path: str = "") -> dict:
    """``{path: (KAAP's value, ours)}`` of every difference, both ways; a path names a field as
    ``.spec.strategy.rollingUpdate.maxUnavailable``, list items as ``[i]``."""
    found: dict = {}
    if isinstance(kaap_value, dict) and isinstance(ours, dict):
        for key in sorted(set(kaap_value) | set(ours)):
            found.update(differences(kaap_value.get(key, ABSENT), ours.get(key, ABSENT),
                                     f"{path}.{key}"))
    elif isinstance(kaap_value, list) and isinstance(ours, list) and len(kaap_value) == len(ours):
        for index, (a, b) in enumerate(zip(kaap_value, ours, strict=True)):
            found.update(differences(a, b, f"{path}[{index}]"))
    elif kaap_value != ours:
        found[path] = (kaap_value, ours)
    return found


def compare(objects: list[dict], expected: dict, allowed: dict) -> None:
    """Compare each expected object's sections with ours: every section the expectation names
    (metadata: only the metadata keys it names) must be equal, both ways, except for the
    `allowed` differences (``{(kind/name, path): reason}``), each of which must occur."""
    found = {}
    for (kind, name), sections in expected.items():
        ours = comparable(find(objects, kind, name))
        for section, value in sections.items():
            if section == "metadata":
                mine = {key: ours["metadata"].get(key, ABSENT) for key in value}
                diff = differences(value, mine, ".metadata")
            else:
                diff = differences(value, ours.get(section, ABSENT), f".{section}")
            for path, values in diff.items():
                found[(f"{kind}/{name}", path)] = values
    unexplained = {k: v for k, v in found.items() if k not in allowed}
    assert not unexplained, "differences from KAAP without a reason:\n" + "\n".join(
        f"  {where} {path}: KAAP {json.dumps(a)[:200]}, ours {json.dumps(b)[:200]}"
        for (where, path), (a, b) in unexplained.items())
    stale = sorted(set(allowed) - set(found))
    assert not stale, f"listed differences that no longer occur: {stale}"


def tls_spec(name: str, **tls) -> dict:
    """Our reduced TLS spec: no persistence, only the named components' TLS turned on."""
    return {"global": {"name": name, "persistence": False, "image": IMAGE, "tls": tls}}


# --- the objects KAAP writes --------------------------------------------------------------------

# Item 1 (on main since issue 13's first fix): no websocket probes and no PULSAR_MEM by default.
# The one difference: maxUnavailable 1 instead of KAAP's 0 (docs/features.md, Proxies: KAAP's 0
# never progresses under the required host anti-affinity with as many nodes as proxies).
PROXY_DEFAULTS = {
    ("Deployment/edge-proxy", ".spec.strategy.rollingUpdate.maxUnavailable"):
        "features.md: both API versions roll proxies with maxUnavailable 1",
}


def test_default_proxy_objects_are_kaaps():
    objects, findings = render(cluster({"global": {"name": "edge", "image": IMAGE}}))
    assert not errors(findings)
    compare(objects, kaap.proxy_objects("edge", NS, IMAGE), PROXY_DEFAULTS)
    websocket = find(objects, "Deployment", "edge-proxy")["spec"]["template"]["spec"][
        "containers"][1]
    assert "livenessProbe" not in websocket and "readinessProbe" not in websocket
    for name in ("edge-proxy", "edge-proxy-ws"):
        assert "PULSAR_MEM" not in find(objects, "ConfigMap", name)["data"]


# Items 4 and 5: KAAP's TLS key path /pulsar/certs/tls.key, KAAP's keys as written
# (docs/kaap-parity.md#what-kaap-writes-with-tls).
TLS_CASES = {
    "broker-with-bookie-tls": (
        {"broker": {"enabled": True}, "bookkeeper": {"enabled": True}},
        lambda n: {("ConfigMap", f"{n}-broker"): {"data": {
            **kaap.broker_config(n, NS), **kaap.BROKER_TLS, **kaap.BROKER_AS_BOOKIE_CLIENT}}}),
    "bookie-tls": (
        {"bookkeeper": {"enabled": True}},
        lambda n: {("ConfigMap", f"{n}-bookkeeper"): {"data": {
            **kaap.bookie_config(n, NS), **kaap.BOOKIE_TLS, **kaap.BOOKIE_CLIENT_AUTH_AS_KAAP}}}),
    "autorecovery-tls": (
        {"bookkeeper": {"enabled": True}, "autorecovery": {"enabled": True}},
        lambda n: {("ConfigMap", f"{n}-autorecovery"): {"data": {
            **kaap.autorecovery_config(n, NS), **kaap.AUTORECOVERY_TLS}}}),
    "proxy-tls": (
        {"broker": {"enabled": True}, "proxy": {"enabled": True, "enabledWithBroker": True},
         "functionsWorker": {"enabled": True}},
        lambda n: {("ConfigMap", f"{n}-proxy"): {"data": {
                       **kaap.proxy_config(n, NS), **kaap.proxy_tls(n, NS)}},
                   ("ConfigMap", f"{n}-proxy-ws"): {"data": {
                       **kaap.websocket_config(n, NS), **kaap.WEBSOCKET_TLS}}}),
}


@pytest.mark.parametrize("case", sorted(TLS_CASES))
def test_tls_configuration_is_kaaps(case):
    tls, expected = TLS_CASES[case]
    objects, findings = render(cluster(tls_spec("sec", **tls)))
    assert not errors(findings), findings
    compare(objects, expected("sec"), {})


# Item 5: functions_worker.yml with KAAP's types (numbers as integers, "true" as strings).
FUNCTIONS_WORKER_DEFAULTS = {
    ("Service/fw-function", ".spec.publishNotReadyAddresses"):
        "ours: the workers' DNS names must resolve while a worker is not ready "
        "(functions_worker.py)",
    **{(f"{kind}/fw-function", ".metadata.labels"):
       "features.md: RBAC objects carry the component labels (KAAP: none)"
       for kind in ("ServiceAccount", "Role", "RoleBinding")},
    ("RoleBinding/fw-function", ".roleRef.apiGroup"):
        "the RBAC API requires roleRef.apiGroup, which KAAP's client library fills in",
}


def test_default_functions_worker_objects_are_kaaps():
    objects, findings = render(cluster({"global": {"name": "fw", "image": IMAGE},
                                        "functionsWorker": {"replicas": 2}}))
    assert not errors(findings)
    expected = kaap.worker_objects("fw", NS)
    for kind in ("ServiceAccount", "Role", "RoleBinding"):   # KAAP labels no RBAC object
        expected[(kind, "fw-function")]["metadata"]["labels"] = ABSENT
    expected[("StatefulSet", "fw-function")] = kaap.worker_statefulset("fw", NS, IMAGE)
    compare(objects, expected, FUNCTIONS_WORKER_DEFAULTS)
    worker = yaml.safe_load(find(objects, "ConfigMap", "fw-function")["data"][
        "functions_worker.yml"])
    assert worker["workerPort"] == 6750 and worker["numFunctionPackageReplicas"] == 2
    assert worker["includeStandardPrometheusMetrics"] == "true"


FUNCTIONS_WORKER_TLS = {
    ("ConfigMap/sec-function", f".data.functions_worker.yml.{key}"):
        "docs/tls.md: the worker trusts the brokers through PEM (tlsTrustCertsFilePath), not "
        "KAAP's JKS stores"
    for key in ("tlsEnabledWithKeyStore", "tlsKeyStore", "tlsTrustStore")}


def test_functions_worker_tls_is_kaaps():
    spec = tls_spec("sec", broker={"enabled": True}, bookkeeper={"enabled": True},
                    functionsWorker={"enabled": True, "enabledWithBroker": True})
    spec["functionsWorker"] = {"replicas": 1}
    objects, findings = render(cluster(spec))
    assert not errors(findings), findings
    worker = {**kaap.worker_file("sec", NS, broker_tls=True), **kaap.WORKER_TLS,
              "numFunctionPackageReplicas": 2}
    compare(objects, {("ConfigMap", "sec-function"): {"data": {"functions_worker.yml": worker}}},
            FUNCTIONS_WORKER_TLS)


def test_bookie_command_is_kaaps_with_tls():
    """The bookie's main container converts the key as KAAP's does (docs/kaap-parity.md#tls-key-
    paths: the start script makes /pulsar/tls-pk8.key), although KAAP's bookie then reads
    /pulsar/certs/tls.key (the ConfigMap compared above)."""
    objects, _ = render(cluster(tls_spec("sec", bookkeeper={"enabled": True})))
    container = find(objects, "StatefulSet", "sec-bookkeeper")["spec"]["template"]["spec"][
        "containers"][0]
    assert container["args"] == [
        "bin/apply-config-from-env.py conf/bookkeeper.conf && "
        # the RocksDB step of a 3.x image (docs/kaap-parity.md#bookkeeper)
        "bin/apply-config-from-env.py conf/entry_location_rocksdb.conf --prefix "
        "PULSAR_PREFIX_entry_location_rocksdb_TableOptions_ && openssl pkcs8 -topk8 -inform PEM "
        "-outform PEM -in /pulsar/certs/tls.key -out /pulsar/tls-pk8.key -nocrypt && "
        'OPTS="${OPTS} -Dlog4j2.formatMsgNoLookups=true" exec bin/pulsar bookie']


def test_our_api_version_reads_the_pkcs8_copy():
    """Item 4, our API version: the same spec points every Pulsar and BookKeeper key path at
    the PKCS#8 copy and asks bookies for client certificates under the bookie's key names."""
    config = cluster(tls_spec("sec", broker={"enabled": True}, bookkeeper={"enabled": True},
                              autorecovery={"enabled": True}), api_version=OURS_API)
    objects, _ = render(config)
    paths = {}
    for obj in objects:
        if obj["kind"] == "ConfigMap":
            for key in ("PULSAR_PREFIX_tlsKeyFilePath", "PULSAR_PREFIX_tlsKeyStore",
                        "PULSAR_PREFIX_bookkeeperTLSKeyFilePath"):
                if key in obj["data"]:
                    paths[(obj["metadata"]["name"], key)] = obj["data"][key]
    assert paths == {("sec-broker", "PULSAR_PREFIX_tlsKeyFilePath"): "/pulsar/tls-pk8.key",
                     ("sec-broker", "PULSAR_PREFIX_bookkeeperTLSKeyFilePath"):
                         "/pulsar/tls-pk8.key",
                     ("sec-bookkeeper", "PULSAR_PREFIX_tlsKeyStore"): "/pulsar/tls-pk8.key",
                     ("sec-autorecovery", "PULSAR_PREFIX_tlsKeyStore"): "/pulsar/tls-pk8.key"}
    bookie = find(objects, "ConfigMap", "sec-bookkeeper")["data"]
    assert bookie["PULSAR_PREFIX_tlsClientAuthentication"] == "true"
    assert "PULSAR_PREFIX_bookkeeperTLSClientAuthentication" not in bookie


# --- whole specs in the shapes KAAP users write --------------------------------------------------

TLS_SELF_SIGNED = FIXTURES / "kaap-style-tls-self-signed.yaml"
DEV_FUNCTIONS = FIXTURES / "kaap-style-dev-functions.yaml"
WHOLE_SPECS = [TLS_SELF_SIGNED, DEV_FUNCTIONS, PARITY_FIXTURES / "kaap-style-chart-defaults.yaml"]


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


@pytest.mark.parametrize("path", WHOLE_SPECS, ids=lambda p: p.name)
def test_whole_kaap_style_specs_render_valid_output(path):
    objects, findings = render(load(path))
    assert not errors(findings), findings
    assert {o["kind"] for o in objects} >= {"StatefulSet", "Deployment", "ConfigMap", "Service"}


def test_chart_default_spec_gets_kaaps_defaults():
    """The chart-default spec: every component at KAAP's default replicas
    (docs/kaap-parity.md#spec-layout: the functions worker off), the "default" StorageClass
    sentinel leaves storageClassName out, and a Pulsar 4 image takes the 4.x RocksDB step
    (docs/kaap-parity.md#bookkeeper)."""
    objects, _ = render(load(PARITY_FIXTURES / "kaap-style-chart-defaults.yaml"))
    replicas = {object_name(o): o["spec"]["replicas"] for o in objects
                if o["kind"] in ("StatefulSet", "Deployment")}
    assert replicas == {"pulsar-zookeeper": 3, "pulsar-bookkeeper": 3, "pulsar-broker": 3,
                        "pulsar-proxy": 3, "pulsar-autorecovery": 1, "pulsar-bastion": 1}
    bookies = find(objects, "StatefulSet", "pulsar-bookkeeper")["spec"]
    assert all("storageClassName" not in claim["spec"]
               for claim in bookies["volumeClaimTemplates"])
    assert "bin/update-ini-from-env.py conf/entry_location_rocksdb.conf " \
           "PULSAR_PREFIX_entry_location_rocksdb_ && " in \
           bookies["template"]["spec"]["containers"][0]["args"][0]


def test_tls_self_signed_spec_reads_kaaps_key_paths():
    """Item 4 on the per-component self-signed spec: every component reads
    /pulsar/certs/tls.key as KAAP configures it (the broker's with KAAP's leading blank), and
    the Certificates ask for the PKCS#8 keys Pulsar reads; each component's Secret gets a
    Certificate (docs/kaap-parity.md#tls-key-paths)."""
    objects, _ = render(load(TLS_SELF_SIGNED))
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
    assert set(certificates) == {"zookeeper-cert", "bookie-cert", "broker-cert", "proxy-cert",
                                 "recovery-cert", "worker-cert"}
    assert all(c["privateKey"]["encoding"] == "PKCS8" for c in certificates.values())


def test_dev_cluster_worker_keeps_its_numbers():
    """Item 5 on the development spec: its own `numFunctionPackageReplicas: 1` and the nested
    resources keep their YAML types; KAAP's defaults are integers
    (docs/kaap-parity.md#functions-worker)."""
    objects, _ = render(load(DEV_FUNCTIONS))
    worker = yaml.safe_load(find(objects, "ConfigMap", "pulsar-function")["data"][
        "functions_worker.yml"])
    assert worker["numFunctionPackageReplicas"] == 1
    assert worker["functionInstanceMaxResources"] == {"cpu": 0.25, "ram": 268435456,
                                                      "disk": 2000000000}
    assert worker["workerPort"] == 6750 and worker["failureCheckFreqMs"] == 30000


# Item 3: custom token roles, as a spec generated from a Helm install has them.
MIGRATED = PARITY_FIXTURES / "kaap-style-helm-migration.yaml"


def migrated_auth_cluster(api_version: str) -> dict:
    """The generated spec's `global.auth` and `global.tls` on the development spec (the rest of
    the generated spec is refused for its integers, below)."""
    generated = load(MIGRATED)["spec"]["global"]
    config = load(DEV_FUNCTIONS)
    config["apiVersion"] = api_version
    config["spec"]["global"]["auth"] = generated["auth"]
    config["spec"]["global"]["tls"] = generated["tls"]
    return config


def test_custom_token_roles_render_with_warnings_for_kaap_input():
    """KAAP accepts any superUserRoles and proxyRoles (docs/kaap-parity.md#token-roles); so
    does KAAP input, with one warning per consequence, and the brokers get the roles as KAAP
    writes them (sorted, comma separated)."""
    auth = load(MIGRATED)["spec"]["global"]["auth"]["token"]
    assert "superuser" not in auth["superUserRoles"] and "proxy" not in auth["proxyRoles"]
    objects, findings = render(migrated_auth_cluster(KAAP_API))
    assert not errors(findings), findings
    found = warnings(findings)
    assert "token-superuser" in found["spec.global.auth.token.superUserRoles"]
    assert "never become Ready" in found["spec.global.auth.token.superUserRoles"]
    assert "refuse the clients' connections" in found["spec.global.auth.token.proxyRoles"]
    broker = find(objects, "ConfigMap", "pulsar-broker")["data"]
    assert broker["PULSAR_PREFIX_superUserRoles"] == "admin,backup-operator,tenant-creator"
    assert broker["PULSAR_PREFIX_proxyRoles"] == "tenant-creator"


def test_custom_token_roles_are_refused_for_our_api_version():
    _, findings = render_without_info(migrated_auth_cluster(OURS_API))
    assert {f.path for f in errors(findings)} == {"spec.global.auth.token.superUserRoles",
                                                  "spec.global.auth.token.proxyRoles"}


def test_the_generated_spec_is_refused_with_field_paths_or_renders_valid_output():
    """The whole generated spec: integers where Kubernetes and KAAP's CRD want strings
    (`prometheus.io/port: 8000`, env `value: 2`, `dnsConfig` `value: 4`). Whatever the decision
    on those (issue 13 item 2), the output is never invalid: either errors that name the field,
    or output that validates and keeps the roles as warnings."""
    objects, findings = render_without_info(load(MIGRATED))
    if errors(findings):
        assert not objects
        assert all(f.path.startswith("spec.") and "expected" in f.message
                   for f in errors(findings)), errors(findings)
    else:
        assert_schema_valid(objects)
        assert "spec.global.auth.token.superUserRoles" in warnings(findings)


# Item 6: selfSigned.<component>.secretName and set-level autoscalers.
PER_COMPONENT = {  # per-component self-signed certificates, one Secret per component
    "global": {
        "name": "crt", "dnsName": "pulsar.example.org",
        "tls": {"enabled": True,
                "broker": {"enabled": True, "secretName": "crt-broker-tls"},
                "bookkeeper": {"enabled": True, "secretName": "crt-bookie-tls"},
                "zookeeper": {"enabled": True, "secretName": "crt-zookeeper-tls"},
                "proxy": {"enabled": True, "secretName": "crt-proxy-tls"},
                "functionsWorker": {"enabled": True, "secretName": "crt-function-tls"},
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
    """KAAP writes a Certificate for each of the five Secrets
    (docs/kaap-parity.md#per-component-certificate-secrets); ours also issues the
    client certificate of autorecovery, a bookie TLS client that mounts the default Secret
    (docs/tls.md: every Secret a pod mounts gets a Certificate)."""
    objects, findings = render(cluster(PER_COMPONENT))
    assert not errors(findings)
    assert certificate_secrets(objects) == {"crt-broker-tls", "crt-bookie-tls",
                                            "crt-zookeeper-tls", "crt-proxy-tls",
                                            "crt-function-tls", "pulsar-tls"}
    client = find(objects, "Certificate", "pulsar-tls")["spec"]
    assert client["usages"] == ["client auth"] and client["commonName"] == "autorecovery"


def test_self_signed_secret_name_names_the_certificates_secret():
    """KAAP (CertManagerCertificatesProvisioner) writes a component's certificate into
    selfSigned.<component>.secretName, falling back to tls.<component>.secretName; its pods
    mount tls.<component>.secretName. A warning says the mounted Secret is then nobody's."""
    spec = copy.deepcopy(PER_COMPONENT)
    self_signed = spec["global"]["tls"]["certProvisioner"]["selfSigned"]
    self_signed["broker"]["secretName"] = "crt-broker-cert"
    self_signed["proxy"]["secretName"] = "crt-proxy-tls"   # the same as mounted: no warning
    objects, findings = render(cluster(spec))
    assert "crt-broker-cert" in certificate_secrets(objects)
    assert "crt-broker-tls" not in certificate_secrets(objects)
    assert find(objects, "Certificate", "crt-broker-cert")["spec"]["secretName"] == \
        "crt-broker-cert"
    mounted = {v["secret"]["secretName"] for v in find(objects, "StatefulSet", "crt-broker")[
        "spec"]["template"]["spec"]["volumes"] if "secret" in v}
    assert "crt-broker-tls" in mounted
    found = warnings(findings)
    path = "spec.global.tls.certProvisioner.selfSigned.broker.secretName"
    assert "'crt-broker-tls'" in found[path] and "'crt-broker-cert'" in found[path]
    assert "spec.global.tls.certProvisioner.selfSigned.proxy.secretName" not in found


def test_self_signed_secret_name_without_per_component_has_no_effect():
    spec = copy.deepcopy(PER_COMPONENT)
    self_signed = spec["global"]["tls"]["certProvisioner"]["selfSigned"]
    self_signed["perComponent"] = False
    self_signed["broker"]["secretName"] = "crt-broker-cert"
    objects, findings = render(cluster(spec))
    assert "crt-broker-cert" not in certificate_secrets(objects)
    assert "no effect" in warnings(findings)[
        "spec.global.tls.certProvisioner.selfSigned.broker.secretName"]


def test_set_level_autoscalers_warn_like_the_top_level():
    """KAAP runs an autoscaler per broker and bookie set (BrokerSetAutoscaler,
    BookKeeperSetAutoscaler); a static renderer cannot, so each set's own one warns."""
    spec = {"global": {"name": "crt", "resourceSets": {"set1": {}, "set2": {}}},
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
    assert find(objects, "StatefulSet", "crt-broker-set2")["spec"]["replicas"] == 3


# Item 7: specs that nest the component sections under spec.global.
@pytest.mark.parametrize("fixture", ["kaap-style-oidc-under-global.yaml",
                                     "kaap-style-offload-under-global.yaml"])
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
