"""TLS and token authentication (issue 8): what each component gets, per-set overrides,
cert-manager objects, the token Job's RBAC, and the checks."""

from __future__ import annotations

import copy

import pytest

import cert_manager
from k8s import assert_valid
from krm_pulsar import placement, render
from conftest import object_name, render_without_info


def render_spec(spec, namespace="prod", errors_ok=False):
    metadata = {"name": "pulsar"}
    if namespace:
        metadata["namespace"] = namespace
    objects, findings = render_without_info({"apiVersion": "krm-pulsar.io/v1alpha1",
                                       "kind": "PulsarCluster", "metadata": metadata,
                                       "spec": copy.deepcopy(spec)})
    if not errors_ok:
        assert not [f for f in findings if f.severity == "error"], findings
    return objects, findings


def by_name(objects, kind, name):
    matches = [o for o in objects if o["kind"] == kind and object_name(o) == name]
    assert matches, f"no {kind} {name}"
    return matches[0]


def pod(obj):
    return obj["spec"]["template"]["spec"]


def container(obj, name=None):
    containers = pod(obj)["containers"]
    return containers[0] if name is None else next(c for c in containers if c["name"] == name)


def secret_volumes(obj) -> dict:
    return {v["name"]: v["secret"]["secretName"] for v in pod(obj).get("volumes") or []
            if "secret" in v}


def port_names(service) -> list:
    return [p["name"] for p in service["spec"]["ports"]]


ALL_TLS = {"global": {"tls": {c: {"enabled": True} for c in (
    "zookeeper", "bookkeeper", "autorecovery", "broker", "proxy", "functionsWorker")}},
    "functionsWorker": {"replicas": 1}}


# --- TLS per component --------------------------------------------------------------------------


def test_without_tls_or_auth_nothing_mentions_certificates_or_tokens():
    objects, _ = render_spec({"functionsWorker": {"replicas": 1}})
    text = repr(objects)
    # (KAAP always writes the brokers' TLS URLs into proxy configs, so pulsar+ssl is there)
    for needle in ("/pulsar/certs", "token-", ":2281", "cert-manager", "keytool"):
        assert needle not in text, needle


def test_every_component_mounts_its_secret_and_gets_its_tls_ports():
    objects, _ = render_spec(ALL_TLS)
    assert_valid(objects)
    for kind, name in (("StatefulSet", "pulsar-zookeeper"), ("StatefulSet", "pulsar-bookkeeper"),
                       ("StatefulSet", "pulsar-broker"), ("Deployment", "pulsar-proxy"),
                       ("Deployment", "pulsar-autorecovery"), ("StatefulSet", "pulsar-function"),
                       ("Job", "pulsar-zookeeper-metadata")):
        obj = by_name(objects, kind, name)
        assert secret_volumes(obj)["certs"] == "pulsar-tls", name
        mounts = {m["name"]: m for m in container(obj).get("volumeMounts") or []}
        assert mounts["certs"]["mountPath"] == "/pulsar/certs" and mounts["certs"]["readOnly"]
    assert "client-tls" in port_names(by_name(objects, "Service", "pulsar-zookeeper-ca"))
    assert port_names(by_name(objects, "Service", "pulsar-broker")) == [
        "http", "pulsar", "https", "pulsarssl"]
    # proxy TLS drops the plaintext ports (KAAP)
    assert port_names(by_name(objects, "Service", "pulsar-proxy")) == [
        "https", "pulsarssl", "wss"]


def test_proxy_keeps_plaintext_ports_with_enable_plain_text_with_tls():
    spec = copy.deepcopy(ALL_TLS)
    spec["proxy"] = {"service": {"enablePlainTextWithTLS": True}}
    objects, _ = render_spec(spec)
    assert port_names(by_name(objects, "Service", "pulsar-proxy")) == [
        "https", "pulsarssl", "wss", "http", "pulsar", "ws"]


def test_configuration_keys_per_component():
    objects, _ = render_spec(ALL_TLS)
    zk = by_name(objects, "ConfigMap", "pulsar-zookeeper")["data"]
    assert zk["PULSAR_PREFIX_secureClientPort"] == "2281"
    assert zk["PULSAR_PREFIX_serverCnxnFactory"].endswith("NettyServerCnxnFactory")
    broker = by_name(objects, "ConfigMap", "pulsar-broker")["data"]
    assert broker["PULSAR_PREFIX_brokerServicePortTls"] == "6651"
    assert broker["PULSAR_PREFIX_webServicePortTls"] == "8443"
    assert broker["PULSAR_PREFIX_tlsKeyFilePath"] == "/pulsar/tls-pk8.key"  # no leading blank
    assert broker["PULSAR_PREFIX_tlsCertificateFilePath"] == "/pulsar/certs/tls.crt"
    assert broker["PULSAR_PREFIX_brokerClientTlsEnabled"] == "true"
    assert broker["PULSAR_PREFIX_bookkeeperTLSClientAuthentication"] == "true"
    # every ZooKeeper client dials the TLS port
    for name in ("pulsar-broker", "pulsar-proxy"):
        data = by_name(objects, "ConfigMap", name)["data"]
        assert data["PULSAR_PREFIX_zookeeperServers"].endswith(":2281")
    assert by_name(objects, "ConfigMap", "pulsar-bookkeeper")["data"][
        "PULSAR_PREFIX_zkServers"].endswith(":2281")
    bookie = by_name(objects, "ConfigMap", "pulsar-bookkeeper")["data"]
    assert bookie["PULSAR_PREFIX_tlsProviderFactoryClass"].endswith("TLSContextFactory")
    proxy = by_name(objects, "ConfigMap", "pulsar-proxy")["data"]
    assert proxy["PULSAR_PREFIX_tlsEnabledInProxy"] == "true"
    assert "PULSAR_PREFIX_tlsEnabledWithBroker" not in proxy  # only with enabledWithBroker
    worker = by_name(objects, "ConfigMap", "pulsar-function")["data"]["functions_worker.yml"]
    assert "\nworkerPortTls: 6751\n" in worker  # an integer, as KAAP's YAML has it
    assert "pulsarServiceUrl: pulsar+ssl://pulsar-broker.prod.svc.cluster.local:6651/" in worker


def test_container_steps_convert_the_key_and_build_stores_before_the_config_is_applied():
    objects, _ = render_spec(ALL_TLS)
    args = container(by_name(objects, "StatefulSet", "pulsar-broker"))["args"][0]
    assert args.index("openssl pkcs8") < args.index("keytool") < args.index(
        "apply-config-from-env.py conf/broker.conf") < args.index("exec bin/pulsar broker")
    assert "conf/pulsar_env.sh" in args  # ZooKeeper client TLS options
    zk_job = container(by_name(objects, "Job", "pulsar-zookeeper-metadata"))["args"][0]
    assert zk_job.index("keytool") < zk_job.index("initialize-cluster-metadata")


def test_metadata_job_registers_the_tls_urls_with_broker_tls():
    objects, _ = render_spec({"global": {"tls": {"broker": {"enabled": True}}}})
    args = container(by_name(objects, "Job", "pulsar-zookeeper-metadata"))["args"][0]
    assert "--web-service-url-tls https://pulsar-broker.prod.svc.cluster.local:8443/" in args
    assert "--broker-service-url-tls pulsar+ssl://pulsar-broker.prod.svc.cluster.local:6651/" \
        in args
    plain, _ = render_spec({})
    assert "-tls" not in container(by_name(plain, "Job", "pulsar-zookeeper-metadata"))["args"][0]


def test_oxia_metadata_job_registers_the_tls_urls_too():
    objects, _ = render_spec({"oxia": {"enabled": True},
                              "global": {"tls": {"broker": {"enabled": True}}}})
    job = by_name(objects, "Job", "pulsar-oxia-metadata")
    assert "--broker-service-url-tls pulsar+ssl://" in container(job)["args"][0]


@pytest.mark.parametrize("target_proxy,url", [
    (True, "pulsar+ssl://pulsar-proxy.prod.svc.cluster.local:6651/"),
    (False, "pulsar+ssl://pulsar-broker.prod.svc.cluster.local:6651/"),
])
def test_bastion_uses_the_tls_url_of_its_target(target_proxy, url):
    spec = {"global": {"tls": {"broker": {"enabled": True}, "proxy": {"enabled": True}}},
            "bastion": {"targetProxy": target_proxy}}
    objects, _ = render_spec(spec)
    data = by_name(objects, "ConfigMap", "pulsar-bastion")["data"]
    assert data["PULSAR_PREFIX_brokerServiceUrl"] == url
    assert data["PULSAR_PREFIX_tlsTrustCertsFilePath"] == "/etc/ssl/certs/ca-certificates.crt"
    assert secret_volumes(by_name(objects, "Deployment", "pulsar-bastion"))["certs"] == \
        "pulsar-tls"


def test_proxy_talks_tls_to_brokers_only_with_enabled_with_broker():
    spec = {"global": {"tls": {"broker": {"enabled": True},
                               "proxy": {"enabled": True, "enabledWithBroker": True}}}}
    objects, _ = render_spec(spec)
    assert by_name(objects, "ConfigMap", "pulsar-proxy")["data"][
        "PULSAR_PREFIX_tlsEnabledWithBroker"] == "true"
    assert by_name(objects, "ConfigMap", "pulsar-proxy-ws")["data"][
        "PULSAR_PREFIX_brokerClientTlsEnabled"] == "true"


def test_functions_worker_follows_broker_tls_unless_told_not_to():
    spec = {"global": {"tls": {"broker": {"enabled": True}}}, "functionsWorker": {"replicas": 1}}
    objects, _ = render_spec(spec)
    worker = by_name(objects, "ConfigMap", "pulsar-function")["data"]["functions_worker.yml"]
    assert "useTls: \"true\"" in worker and "pulsar+ssl://" in worker
    spec["global"]["tls"]["functionsWorker"] = {"enabledWithBroker": False}
    objects, _ = render_spec(spec)
    worker = by_name(objects, "ConfigMap", "pulsar-function")["data"]["functions_worker.yml"]
    assert "useTls" not in worker and "pulsar+ssl://" not in worker


# --- per-set overrides --------------------------------------------------------------------------

SETS = {
    "global": {"resourceSets": {"a": {}, "b": {}},
               "tls": {"broker": {"enabled": True},
                       "brokerResourceSets": {"b": {"enabled": False}},
                       "proxy": {"enabled": True, "secretName": "proxy-tls"},
                       "proxyResourceSets": {"b": {"secretName": "proxy-b-tls"}}}},
    "broker": {"sets": {"a": {"replicas": 1}, "b": {"replicas": 1}}},
    "proxy": {"sets": {"a": {"replicas": 1}, "b": {"replicas": 1}}},
}


def test_a_set_entry_overrides_the_component_per_field():
    objects, findings = render_spec(SETS)
    assert "https" in port_names(by_name(objects, "Service", "pulsar-broker-a"))
    assert "https" not in port_names(by_name(objects, "Service", "pulsar-broker-b"))
    assert "PULSAR_PREFIX_webServicePortTls" not in by_name(
        objects, "ConfigMap", "pulsar-broker-b")["data"]
    # proxy set b keeps TLS (inherited) with its own Secret
    assert secret_volumes(by_name(objects, "Deployment", "pulsar-proxy-a"))["certs"] == \
        "proxy-tls"
    assert secret_volumes(by_name(objects, "Deployment", "pulsar-proxy-b"))["certs"] == \
        "proxy-b-tls"
    assert "pulsarssl" in port_names(by_name(objects, "Service", "pulsar-proxy-b"))
    assert [(f.path, f.severity) for f in findings] == [
        ("spec.global.tls.brokerResourceSets.b.enabled", "warning")]


# --- cert-manager -------------------------------------------------------------------------------

SELF_SIGNED = {"global": {"tls": {"enabled": True, "broker": {"enabled": True},
                                  "proxy": {"enabled": True},
                                  "certProvisioner": {"selfSigned": {"enabled": True}}}}}


def certificates(objects):
    return {o["metadata"]["name"]: o["spec"] for o in objects if o["kind"] == "Certificate"}


def test_self_signed_renders_a_ca_and_a_certificate_for_the_mounted_secret():
    objects, _ = render_spec(SELF_SIGNED)
    cm = [o for o in objects if o["apiVersion"] == "cert-manager.io/v1"]
    cert_manager.assert_valid(cm)
    assert [(o["kind"], o["metadata"]["name"]) for o in cm] == [
        ("Issuer", "pulsar-self-signed-issuer"), ("Certificate", "pulsar-ca-certificate"),
        ("Issuer", "pulsar-ca-issuer"), ("Certificate", "pulsar-tls")]
    certs = certificates(objects)
    assert certs["pulsar-ca-certificate"]["isCA"] is True
    assert certs["pulsar-tls"]["secretName"] == secret_volumes(
        by_name(objects, "StatefulSet", "pulsar-broker"))["certs"]
    names = certs["pulsar-tls"]["dnsNames"]
    assert "*.pulsar-broker.prod.svc.cluster.local" in names  # advertised pod names
    assert "pulsar-proxy.prod.svc.cluster.local" in names
    assert not any("zookeeper" in n for n in names)  # ZooKeeper has no TLS here
    # pods trust the CA cert-manager puts into the same Secret
    assert by_name(objects, "ConfigMap", "pulsar-broker")["data"][
        "PULSAR_PREFIX_tlsTrustCertsFilePath"] == "/pulsar/certs/ca.crt"
    waves = {o["metadata"]["annotations"][placement.SYNC_WAVE] for o in cm}
    assert waves == {"-1"}


def test_self_signed_needs_the_deprecated_global_switch_as_in_kaap():
    spec = copy.deepcopy(SELF_SIGNED)
    spec["global"]["tls"]["enabled"] = False
    objects, findings = render_spec(spec)
    assert not [o for o in objects if o["apiVersion"] == "cert-manager.io/v1"]
    assert ("spec.global.tls.enabled", "warning") in [(f.path, f.severity) for f in findings]


def test_without_namespace_names_are_relative_and_a_warning_says_why():
    objects, findings = render_spec(SELF_SIGNED, namespace=None)
    names = certificates(objects)["pulsar-tls"]["dnsNames"]
    assert "*.pulsar-broker" in names and not any(".svc." in n for n in names)
    assert ("metadata.namespace", "warning") in [(f.path, f.severity) for f in findings]


def test_include_dns_adds_the_public_name():
    spec = copy.deepcopy(SELF_SIGNED)
    spec["global"]["dnsName"] = "pulsar.example.com"
    spec["global"]["tls"]["certProvisioner"]["selfSigned"]["includeDns"] = True
    objects, _ = render_spec(spec)
    assert "pulsar.example.com" in certificates(objects)["pulsar-tls"]["dnsNames"]


def test_per_component_certificates_follow_the_secrets():
    spec = copy.deepcopy(SELF_SIGNED)
    tls = spec["global"]["tls"]
    tls["broker"]["secretName"] = "broker-tls"
    tls["proxy"]["secretName"] = "proxy-tls"
    tls["certProvisioner"]["selfSigned"].update(
        perComponent=True, proxy={"generate": False},
        broker={"privateKey": {"algorithm": "ECDSA", "size": 384}})
    objects, findings = render_spec(spec)
    certs = certificates(objects)
    assert set(certs) == {"pulsar-ca-certificate", "broker-tls"}  # proxy: user's own Secret
    # PKCS#8 unless the user chose an encoding: Pulsar reads no other (security.PK8_KEY_FILE)
    assert certs["broker-tls"]["privateKey"] == {"encoding": "PKCS8", "algorithm": "ECDSA",
                                                 "size": 384}
    assert not [f for f in findings if f.severity != "info"]
    cert_manager.assert_valid([o for o in objects if o["apiVersion"] == "cert-manager.io/v1"])


def test_per_component_with_a_shared_secret_warns():
    spec = copy.deepcopy(SELF_SIGNED)
    spec["global"]["tls"]["certProvisioner"]["selfSigned"]["perComponent"] = True
    _, findings = render_spec(spec)
    assert [(f.path, f.severity) for f in findings] == [
        ("spec.global.tls.certProvisioner.selfSigned.perComponent", "warning")]


def test_a_component_secret_named_like_the_ca_secret_is_an_error():
    spec = copy.deepcopy(SELF_SIGNED)
    spec["global"]["tls"]["broker"]["secretName"] = "pulsar-ss-ca"
    objects, findings = render_spec(spec, errors_ok=True)
    assert objects == []
    assert ("spec.global.tls.broker.secretName", "error") in [
        (f.path, f.severity) for f in findings]


def test_unsupported_provisioner_parts_are_refused():
    # (the ACME provisioner is rendered: tests/unit/test_acme.py)
    spec = copy.deepcopy(SELF_SIGNED)
    spec["global"]["tls"]["certProvisioner"]["selfSigned"]["external"] = {
        "grafana": {"generate": True}}
    objects, findings = render_spec(spec, errors_ok=True)
    assert objects == []
    assert any(f.severity == "error" and "external" in f.path for f in findings)


# --- token authentication -----------------------------------------------------------------------

AUTH = {"global": {"auth": {"enabled": True}}, "functionsWorker": {"replicas": 1}}


def test_servers_get_token_authentication_from_files():
    objects, _ = render_spec(AUTH)
    broker = by_name(objects, "ConfigMap", "pulsar-broker")["data"]
    assert broker["PULSAR_PREFIX_authenticationProviders"] == \
        "org.apache.pulsar.broker.authentication.AuthenticationProviderToken"
    assert broker["PULSAR_PREFIX_tokenPublicKey"] == \
        "file:///pulsar/token-public-key/my-public.key"
    assert broker["PULSAR_PREFIX_superUserRoles"] == "admin,proxy,superuser,websocket"
    assert broker["PULSAR_PREFIX_proxyRoles"] == "proxy"
    assert broker["PULSAR_PREFIX_brokerClientAuthenticationParameters"] == \
        "file:///pulsar/token-superuser/superuser.jwt"
    proxy = by_name(objects, "ConfigMap", "pulsar-proxy")["data"]
    assert proxy["PULSAR_PREFIX_brokerClientAuthenticationParameters"] == \
        "file:///pulsar/token-proxy/proxy.jwt"
    assert secret_volumes(by_name(objects, "StatefulSet", "pulsar-broker")) == {
        "token-public-key": "token-public-key", "token-superuser": "token-superuser"}
    # no component mounts the private key
    for obj in objects:
        if obj["kind"] in ("StatefulSet", "Deployment"):
            assert "token-private-key" not in secret_volumes(obj).values()


def test_health_probes_send_the_superuser_token():
    objects, _ = render_spec(AUTH)
    for kind, name in (("StatefulSet", "pulsar-broker"), ("Deployment", "pulsar-proxy"),
                       ("StatefulSet", "pulsar-function")):
        command = container(by_name(objects, kind, name))["livenessProbe"]["exec"]["command"][2]
        assert ('--fail -H "Authorization: Bearer $(cat /pulsar/token-superuser/superuser.jwt'
                in command), name


def test_token_job_has_least_rbac_and_runs_before_the_metadata_store():
    objects, _ = render_spec(AUTH)
    assert_valid(objects)
    role = by_name(objects, "Role", "pulsar-token-init")
    rules = {tuple(r["verbs"]): r for r in role["rules"]}
    assert set(rules) == {("get",), ("create",)}
    assert rules[("get",)]["resourceNames"] == [
        "token-private-key", "token-public-key", "token-admin", "token-proxy",
        "token-superuser", "token-websocket"]
    assert all(r["resources"] == ["secrets"] for r in role["rules"])
    job = next(o for o in objects if o["kind"] == "Job"
               and o["metadata"]["name"].startswith("pulsar-token-init-"))
    assert pod(job)["serviceAccountName"] == "pulsar-token-init"
    work = next(v for v in pod(job)["volumes"] if v["name"] == "work")
    assert work["emptyDir"]["medium"] == "Memory"
    waves = {o["metadata"]["name"]: int(o["metadata"]["annotations"][placement.SYNC_WAVE])
             for o in objects}
    assert waves[job["metadata"]["name"]] < waves["pulsar-zookeeper"] == 0


def test_no_token_job_without_initialize():
    spec = copy.deepcopy(AUTH)
    spec["global"]["auth"]["token"] = {"initialize": False}
    objects, _ = render_spec(spec)
    assert not [o for o in objects if "token-init" in o["metadata"]["name"]]


def test_token_job_name_changes_with_the_roles():
    def job_name(spec):
        objects, _ = render_spec(spec)
        return next(o["metadata"]["name"] for o in objects if o["kind"] == "Job"
                    and o["metadata"]["name"].startswith("pulsar-token-init-"))
    more = copy.deepcopy(AUTH)
    more["global"]["auth"]["token"] = {"superUserRoles": ["admin", "proxy", "superuser",
                                                         "websocket", "ops"]}
    assert job_name(AUTH) == job_name(AUTH)
    assert job_name(more) != job_name(AUTH)


@pytest.mark.parametrize("token,path", [
    ({"superUserRoles": ["admin", "proxy", "websocket"]}, "spec.global.auth.token.superUserRoles"),
    ({"proxyRoles": ["gateway"]}, "spec.global.auth.token.proxyRoles"),
    ({"superUserRoles": ["superuser", "proxy", "Bad_Role"]},
     "spec.global.auth.token.superUserRoles[2]"),
    ({"publicKeyFile": "../key"}, "spec.global.auth.token.publicKeyFile"),
])
def test_auth_settings_the_pods_cannot_work_with_are_errors(token, path):
    spec = {"global": {"auth": {"enabled": True, "token": token}}}
    objects, findings = render_spec(spec, errors_ok=True)
    assert objects == []
    assert path in [f.path for f in findings if f.severity == "error"]


def test_proxy_tls_to_brokers_without_broker_tls_is_an_error():
    spec = {"global": {"tls": {"proxy": {"enabled": True, "enabledWithBroker": True}}}}
    objects, findings = render_spec(spec, errors_ok=True)
    assert objects == []
    assert [f.path for f in findings] == ["spec.global.tls.proxy.enabledWithBroker"]


def test_zookeeper_tls_with_a_ca_bundle_warns_about_keytool():
    _, findings = render_spec({"global": {"tls": {"zookeeper": {"enabled": True}}}})
    assert [(f.path, f.severity) for f in findings] == [("spec.global.tls.caPath", "warning")]
    _, quiet = render_spec({"global": {"tls": {"zookeeper": {"enabled": True},
                                               "caPath": "/pulsar/certs/ca.crt"}}})
    assert quiet == []


def test_kaap_input_with_tls_and_auth_renders():
    config = {"apiVersion": "kaap.oss.datastax.com/v1beta1", "kind": "PulsarCluster",
              "metadata": {"name": "pulsar", "namespace": "prod"},
              "spec": {"global": {"name": "pulsar", "image": "apachepulsar/pulsar:3.0.7",
                                  "auth": {"enabled": True},
                                  "tls": {"enabled": True, "broker": {"enabled": True},
                                          "certProvisioner": {"selfSigned": {"enabled": True}}}}}}
    objects, findings = render_without_info(config)
    assert not [f for f in findings if f.severity == "error"], findings
    assert_valid([o for o in objects if o["apiVersion"] != "cert-manager.io/v1"])
    cert_manager.assert_valid([o for o in objects if o["apiVersion"] == "cert-manager.io/v1"])


def test_zookeeper_tls_alone_still_gives_every_zookeeper_client_its_stores():
    objects, _ = render_spec({"global": {"tls": {"zookeeper": {"enabled": True},
                                                 "caPath": "/pulsar/certs/ca.crt"}},
                              "functionsWorker": {"replicas": 1},
                              "broker": {"transactions": {"enabled": True}}})
    for kind, name in (("StatefulSet", "pulsar-bookkeeper"), ("StatefulSet", "pulsar-broker"),
                       ("Deployment", "pulsar-proxy"), ("Deployment", "pulsar-autorecovery"),
                       ("StatefulSet", "pulsar-function"), ("Job", "pulsar-zookeeper-metadata"),
                       ("Job", "pulsar-broker")):
        obj = by_name(objects, kind, name)
        assert "certs" in secret_volumes(obj), name
        assert "zookeeper.client.secure=true" in container(obj)["args"][0], name


def test_the_deprecated_global_switch_alone_turns_nothing_on_and_says_so():
    objects, findings = render_spec({"global": {"tls": {"enabled": True}}})
    assert "/pulsar/certs" not in repr(objects)
    assert [(f.path, f.severity) for f in findings] == [("spec.global.tls.enabled", "warning")]


# --- review findings: client-only Secrets, proxy trust of the worker, ZooKeeper without namespace


def test_every_mounted_tls_secret_gets_a_certificate():
    """A component that is only a TLS client (here the proxies, whose brokers have TLS) mounts
    its own Secret; cert-manager must issue it or the pods never start."""
    objects, _ = render_spec({"global": {"tls": {
        "enabled": True, "broker": {"enabled": True},
        "proxy": {"enabled": False, "secretName": "proxy-tls"},
        "bookkeeper": {"enabled": True, "secretName": "bk-tls"},
        "certProvisioner": {"selfSigned": {"enabled": True}}}}})
    mounted = {v["secret"]["secretName"] for o in objects
               if o["kind"] in ("StatefulSet", "Deployment", "Job")
               for v in o["spec"]["template"]["spec"].get("volumes") or []
               if v.get("name") == "certs"}
    issued = {o["spec"]["secretName"] for o in objects if o["kind"] == "Certificate"}
    assert "proxy-tls" in mounted and mounted <= issued
    proxy_cert = by_name(objects, "Certificate", "proxy-tls")["spec"]
    assert proxy_cert["usages"] == ["client auth"] and proxy_cert["commonName"] == "proxy"
    cert_manager.assert_valid([o for o in objects if o["apiVersion"].startswith("cert-manager")])


def test_proxies_trust_a_tls_functions_worker():
    objects, _ = render_spec({"global": {"tls": {
        "enabled": True, "functionsWorker": {"enabled": True},
        "certProvisioner": {"selfSigned": {"enabled": True}}}},
        "functionsWorker": {"replicas": 1}})
    data = by_name(objects, "ConfigMap", "pulsar-proxy")["data"]
    assert data["PULSAR_PREFIX_functionWorkerWebServiceURL"].startswith("https://")
    assert data["PULSAR_PREFIX_brokerClientTrustCertsFilePath"] == "/pulsar/certs/ca.crt"
    volumes = pod(by_name(objects, "Deployment", "pulsar-proxy"))["volumes"]
    assert any(v.get("name") == "certs" for v in volumes)


def test_zookeeper_tls_with_self_signed_certificates_needs_a_namespace():
    spec = {"global": {"tls": {"enabled": True, "zookeeper": {"enabled": True},
                               "certProvisioner": {"selfSigned": {"enabled": True}}}}}
    objects, findings = render_spec(spec, namespace=None, errors_ok=True)
    assert objects == []
    assert [f.path for f in findings if f.severity == "error"] == ["metadata.namespace"]
    objects, _ = render_spec(spec)  # with a namespace it renders
    assert objects
