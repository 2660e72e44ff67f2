"""cert-manager objects for ``global.tls.certProvisioner.selfSigned`` (KAAP's
CertManagerCertificatesProvisioner, rendered statically).

A self-signed Issuer signs a CA Certificate; a CA Issuer built on it signs one Certificate per
TLS Secret the pods mount, so a user with cert-manager installed gets working TLS with no
manual step: cert-manager writes ``tls.crt``, ``tls.key`` and ``ca.crt`` into exactly the
Secrets the components mount, and the components trust ``/pulsar/certs/ca.crt``.

Differences from KAAP (docs/tls.md): one Certificate per distinct Secret, named like the
Secret (KAAP: one shared ``<name>-server-tls`` or ``<name>-<component>-tls`` per component,
which with per-component certificates but shared Secrets made two Certificates fight over one
Secret); per-set Secrets of broker/proxy resource sets get their own Certificate; DNS names are
relative when the PulsarCluster has no namespace.
"""

from __future__ import annotations

from . import names, placement, security
from .schema import SpecError, warning

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from .cluster import Cluster

API_VERSION = "cert-manager.io/v1"
# Before the metadata store (wave 0): the Secrets must exist before pods can mount them.
SYNC_WAVE = "-1"
COMPONENT_LABEL = names.TLS_COMPONENT


def _names(cluster: Cluster, service: str, wildcard: bool) -> list:
    """The names a client may dial for a Service (and its pods with ``wildcard``)."""
    hosts = [service]
    if cluster.namespace:
        hosts = [f"{service}.{cluster.namespace}.svc.{cluster.domain}",
                 f"{service}.{cluster.namespace}", service]
    if wildcard:
        return [f"*.{h}" for h in hosts] + hosts
    return hosts


def _set_groups(cluster: Cluster, section: str) -> list:
    """``[(secret, set name or None, [dns names])]`` for the rendered sets with TLS on."""
    spec = cluster.spec
    wildcard = section != "proxy"  # brokers advertise per-pod names; proxies do not
    sets = placement.resource_sets(cluster, section)
    # the umbrella Service reaches the pods of every set, so every set's certificate
    # must be valid for its names too
    umbrella = []
    if placement.umbrella_needed(cluster, section, sets):
        umbrella = _names(cluster, cluster.resource_name(section), wildcard)
    groups = []
    for rset in sets:
        if rset.spec["replicas"] <= 0 or not security.tls_on(spec, section, rset.name):
            continue
        groups.append((security.secret_name(spec, section, rset.name), rset.name,
                       _names(cluster, rset.resource_name, wildcard) + umbrella))
    return groups


def server_groups(cluster: Cluster) -> list:
    """``[(section, secret, [dns names])]`` for every component with TLS on, in rollout order."""
    spec = cluster.spec
    groups = []
    if security.tls_on(spec, "zookeeper") and not cluster.oxia \
            and spec["zookeeper"]["replicas"] > 0:
        name = cluster.resource_name("zookeeper")
        # ours: the bare pod names too (ZOOKEEPER_SERVERS); the generated zoo.cfg lists the
        # fully qualified ones, which only a namespaced render covers (check() refuses the rest)
        pods = [f"{name}-{i}" for i in range(spec["zookeeper"]["replicas"])]
        groups.append(("zookeeper", security.secret_name(spec, "zookeeper"),
                       _names(cluster, name, True) + _names(cluster, f"{name}-ca", False)
                       + pods))
    if security.tls_on(spec, "bookkeeper"):
        for rset in placement.resource_sets(cluster, "bookkeeper"):
            if rset.spec["replicas"] > 0:
                groups.append(("bookkeeper", security.secret_name(spec, "bookkeeper"),
                               _names(cluster, rset.resource_name, True)))
    for section in ("broker", "proxy"):
        for secret, _set, dns_names in _set_groups(cluster, section):
            groups.append((section, secret, dns_names))
    if security.tls_on(spec, "autorecovery") and spec["autorecovery"]["replicas"] > 0:
        # a client certificate only: autorecovery serves nothing
        groups.append(("autorecovery", security.secret_name(spec, "autorecovery"), []))
    if security.tls_on(spec, "functionsWorker") and spec["functionsWorker"]["replicas"] > 0:
        name = cluster.resource_name("functionsWorker")
        groups.append(("functionsWorker", security.secret_name(spec, "functionsWorker"),
                       _names(cluster, name, True) + _names(cluster, f"{name}-ca", False)))
    return groups


# The components whose certificate KAAP writes into selfSigned.<component>.secretName when it
# is set (perComponent; CertManagerCertificatesProvisioner): autorecovery's always goes to
# tls.autorecovery.secretName.
NAMED_CERT_SECTIONS = ("zookeeper", "bookkeeper", "broker", "proxy", "functionsWorker")


def certificate_secret(spec: dict, section: str, mounted: str) -> str:
    """The Secret cert-manager writes the certificate of `section`'s Secret `mounted` into:
    KAAP's ``selfSigned.<component>.secretName`` when certificates are per component, else the
    Secret the pods mount. Per-set Secrets of broker and proxy sets keep their own
    (kaap-parity.md#per-component-certificate-secrets)."""
    self_signed = spec["global"]["tls"]["certProvisioner"]["selfSigned"]
    named = (self_signed.get(section) or {}).get("secretName")
    if (named and self_signed.get("perComponent") and section in NAMED_CERT_SECTIONS
            and mounted == security.secret_name(spec, section)):
        return str(named)
    return mounted


def check_certificate_secrets(spec: dict) -> list:
    """selfSigned.<component>.secretName: KAAP writes the component's certificate there and
    its pods mount tls.<component>.secretName; a warning when the two differ (the mounted
    Secret must then come from elsewhere) or when the field has no effect."""
    self_signed = spec["global"]["tls"]["certProvisioner"]["selfSigned"]
    findings = []
    for section in (*NAMED_CERT_SECTIONS, "autorecovery"):
        named = (self_signed.get(section) or {}).get("secretName")
        if not named:
            continue
        path = f"spec.global.tls.certProvisioner.selfSigned.{section}.secretName"
        mounted = security.secret_name(spec, section)
        if section == "autorecovery" or not self_signed.get("perComponent"):
            why = ("KAAP writes the autorecovery certificate into tls.autorecovery.secretName"
                   if section == "autorecovery" else
                   "KAAP reads it only with selfSigned.perComponent: true")
            findings.append(warning(path, f"has no effect: {why}, and so does krm-pulsar"))
        elif named != mounted:
            findings.append(warning(
                path,
                f"the {section} certificate is written into Secret {named!r} (as in KAAP), "
                f"but the {section} pods mount {mounted!r} "
                f"(spec.global.tls.{section}.secretName, else defaultSecretName), which no "
                f"Certificate fills: create {mounted!r} yourself, or set "
                f"spec.global.tls.{section}.secretName: {named}"))
    return findings


def check(cluster: Cluster) -> list:
    """Findings about the self-signed provisioner (needs the cluster for names)."""
    spec = cluster.spec
    tls = spec["global"]["tls"]
    self_signed = tls["certProvisioner"]["selfSigned"]
    if not self_signed["enabled"]:
        return []
    findings = []
    if not tls["enabled"]:
        findings.append(warning(
            "spec.global.tls.enabled",
            "certProvisioner.selfSigned.enabled has no effect while global.tls.enabled is "
            "false (as in KAAP); no cert-manager objects are rendered. Set "
            "global.tls.enabled: true"))
    if not security.self_signed(spec):
        return findings
    findings += check_certificate_secrets(spec)
    zookeeper_tls = any(section == "zookeeper" for section, _, _ in server_groups(cluster))
    if not cluster.namespace and zookeeper_tls:
        findings.append(SpecError(
            "metadata.namespace",
            "ZooKeeper TLS with self-signed certificates needs the namespace: the quorum dials "
            "its peers by fully qualified name (zoo.cfg from generate-zookeeper-config.sh) and "
            "verifies their host names, which certificates without the namespace cannot "
            "cover. Set metadata.namespace (or render --namespace)"))
    elif not cluster.namespace:
        findings.append(warning(
            "metadata.namespace",
            "the self-signed certificates only cover relative names (<service>, "
            "*.<service>) because the PulsarCluster has no namespace; brokers advertise "
            "fully qualified pod names, which clients verifying host names will reject. Set "
            "metadata.namespace (or render --namespace)"))
    ca_secret = tls["ssCa"]["secretName"]
    for section, mounted, _ in server_groups(cluster):
        secret = certificate_secret(spec, section, mounted)
        if secret == ca_secret:
            findings.append(SpecError(
                f"spec.global.tls.{section}.secretName",
                f"{secret!r} is also the CA's Secret (tls.ssCa.secretName); give the component "
                f"or the CA another Secret name"))
    if self_signed.get("perComponent"):
        users: dict[str, set] = {}
        for section, secret, _ in server_groups(cluster):
            users.setdefault(secret, set()).add(section)
        for secret, sections in sorted(users.items()):
            if len(sections) > 1:
                findings.append(warning(
                    "spec.global.tls.certProvisioner.selfSigned.perComponent",
                    f"{', '.join(sorted(sections))} all mount the Secret {secret!r}, so they "
                    f"share one certificate; give each tls.<component>.secretName its own "
                    f"name for separate certificates"))
    return findings


def render(cluster: Cluster) -> list:
    """The cert-manager objects: every TLS Secret a rendered pod mounts (its TLS plan) gets a
    Certificate (a component that is only a TLS client of another, e.g. brokers when only the
    bookies have TLS, mounts its Secret too)."""
    spec = cluster.spec
    if not security.self_signed(spec) or not security.any_tls(spec):
        return []
    tls = spec["global"]["tls"]
    self_signed = tls["certProvisioner"]["selfSigned"]
    name = cluster.name
    issuer = f"{name}-self-signed-issuer"
    ca_issuer = f"{name}-ca-issuer"
    ca_secret = tls["ssCa"]["secretName"]
    labels = names.base_labels(name, COMPONENT_LABEL)

    def obj(kind: str, object_name: str, body: dict) -> dict:
        metadata = cluster.metadata(object_name, labels,
                                    {names.SYNC_WAVE: SYNC_WAVE})
        return {"apiVersion": API_VERSION, "kind": kind, "metadata": metadata, "spec": body}

    ca_spec = {"isCA": True, "commonName": f"{name}-ca", "secretName": ca_secret,
               "usages": ["server auth", "client auth"],
               "issuerRef": {"name": issuer, "kind": "Issuer", "group": "cert-manager.io"}}
    if self_signed.get("privateKey"):
        ca_spec["privateKey"] = _private_key(self_signed["privateKey"])
    objects = [
        obj("Issuer", issuer, {"selfSigned": {}}),
        obj("Certificate", f"{name}-ca-certificate", ca_spec),
        obj("Issuer", ca_issuer, {"ca": {"secretName": ca_secret}}),
    ]
    # one Certificate per Secret, with every name of every component that mounts it
    by_secret: dict = {}
    # Secrets the pods mount that no Certificate of ours fills: the user's
    named_elsewhere = set()
    for section, mounted, dns_names in server_groups(cluster):
        component_config = self_signed.get(section) or {}
        if component_config.get("generate") is False:
            continue  # the user provides this component's Secret
        secret = certificate_secret(spec, section, mounted)
        if secret != mounted:
            named_elsewhere.add(mounted)
        entry = by_secret.setdefault(secret, {"sections": [], "names": [], "key": None})
        entry["sections"].append(section)
        entry["names"].extend(dns_names)
        entry["names"].extend(component_config.get("dnsNames") or [])
        if entry["key"] is None and component_config.get("privateKey"):
            entry["key"] = component_config["privateKey"]
    from .registry import TLS_COMPONENTS

    provided = {security.secret_name(spec, c.section) for c in TLS_COMPONENTS
                if (self_signed.get(c.section) or {}).get("generate") is False}
    provided |= named_elsewhere - set(by_secret)
    for component, secret in _mounted_cert_secrets(cluster):
        if secret not in by_secret and secret != ca_secret and secret not in provided:
            # a client certificate only: the pods dial TLS servers with it
            by_secret[secret] = {"sections": [component], "names": [], "key": None,
                                 "common_name": component}
    extra = [] if not (self_signed.get("includeDns") and spec["global"]["dnsName"]) \
        else [spec["global"]["dnsName"]]
    for secret, entry in by_secret.items():
        dns_names = list(entry["names"])
        if "proxy" in entry["sections"] or not self_signed.get("perComponent"):
            dns_names += extra  # the public name belongs to the cluster's front door
        dns_names = list(dict.fromkeys(dns_names))  # de-duplicated, first occurrence kept
        body = {"secretName": secret}
        if dns_names:
            body["dnsNames"] = dns_names
            body["usages"] = ["server auth", "client auth"]
        else:
            body["commonName"] = entry.get("common_name") or cluster.base_name(
                entry["sections"][0])
            body["usages"] = ["client auth"]
        # PKCS#8 unless the user chose: Pulsar reads only PKCS#8 keys, and KAAP input reads
        # the Secret's tls.key itself (security.PK8_KEY_FILE); cert-manager's default is PKCS#1
        body["privateKey"] = {"encoding": "PKCS8",
                              **_private_key(entry["key"] or self_signed.get("privateKey") or {})}
        body["issuerRef"] = {"name": ca_issuer, "kind": "Issuer", "group": "cert-manager.io"}
        objects.append(obj("Certificate", secret, body))
    return objects


def _mounted_cert_secrets(cluster: Cluster) -> list:
    """``[(pod component label, Secret)]`` of every TLS Secret a rendered pod mounts, in
    rollout order (their TLS plans). The Jobs of a component mount its Secret, which its pods
    mount too; the rack registration Job mounts the brokers', which no broker pod may mount."""
    from . import rack_registration, registry

    found = []
    for entry in registry.in_rollout_order():
        if not entry.rendered(cluster.spec):
            continue
        section = entry.section
        if entry.has_sets:
            pods = [(cluster.tls_plan(section, rset), rset.pod_labels(cluster))
                    for rset in placement.resource_sets(cluster, section)
                    if rset.spec["replicas"] > 0]
        else:
            pods = [(cluster.tls_plan(section),
                     cluster.pod_labels(section, cluster.spec[section]))]
        for plan, labels in pods:
            pair = (labels.get(names.COMPONENT_LABEL), plan.secret)
            if plan.secret and pair not in found:
                found.append(pair)
    if rack_registration.needed(cluster):
        plan = rack_registration.tls(cluster)
        pair = (names.RACK_REGISTRATION_COMPONENT, plan.secret)
        if plan.secret and pair not in found:
            found.append(pair)
    return found


def _private_key(key: dict) -> dict:
    return {k: v for k, v in key.items() if v is not None}
