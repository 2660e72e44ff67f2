"""cert-manager objects for ``global.tls.certProvisioner.acme`` (KAAP's ACME provisioner,
CertManagerCertificatesProvisioner.generateAcmeCertificates, rendered statically;
docs/tls.md#acme).

An ACME Issuer (Let's Encrypt or any ACME server) and, as KAAP renders them, one Certificate
for the brokers and one for the proxies when the component has TLS and its ``generate`` is
true, valid for exactly the ``dnsNames`` given (an ACME server only certifies public names),
written to ``acme.<component>.secretName``, else to the component's TLS Secret; and one per
``external`` entry. Like the self-signed provisioner (certs.py), Certificates are named after
their Secret (KAAP: ``<name>-<base name>-tls``), so two providers writing one Secret collide
visibly instead of overwriting each other's certificate.

What an ACME certificate cannot do is checked here: it carries no ``ca.crt`` (ACME issuers
return no CA), so a pod that reads its CA from its own mounted Secret (the self-signed
provisioner's trust, or a ``caPath`` under /pulsar/certs) can verify nothing; and it covers
only public names, which in-cluster clients do not dial.
"""

from __future__ import annotations

from . import names, security
from .schema import SpecError, child_path, warning

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from .cluster import Cluster
    from .tls_plan import TlsPlan

API_VERSION = "cert-manager.io/v1"
SYNC_WAVE = "-1"  # with the other cert-manager objects, before any pod mounts a Secret
PATH = "spec.global.tls.certProvisioner.acme"
COMPONENTS = ("broker", "proxy")
DNS_PROVIDERS = ("route53", "cloudflare", "cloudDNS")


def settings(spec: dict) -> dict:
    return spec["global"]["tls"]["certProvisioner"]["acme"]


def active(spec: dict) -> bool:
    """ACME objects are rendered (KAAP needs the deprecated ``tls.enabled`` too)."""
    return bool(spec["global"]["tls"]["enabled"] and settings(spec)["enabled"])


def issuer_name(cluster: Cluster) -> str:
    return settings(cluster.spec)["issuer"]["name"] or f"{cluster.name}-acme-issuer"


def certificates(spec: dict) -> list[tuple[str, str, dict]]:
    """``(field path, Secret, certificate settings)`` of every Certificate ACME writes."""
    acme = settings(spec)
    tls = spec["global"]["tls"]
    found = []
    for section in COMPONENTS:
        config = acme[section]
        if config["generate"] and tls[section]["enabled"]:
            found.append((f"{PATH}.{section}", config["secretName"] or tls[section]["secretName"],
                          config))
    for service, config in (acme["external"] or {}).items():
        if config and config["generate"]:
            found.append((child_path(f"{PATH}.external", service), config["secretName"],
                          config))
    return found


def render(cluster: Cluster) -> list:
    spec = cluster.spec
    if not active(spec):
        return []
    acme = settings(spec)
    labels = names.base_labels(cluster.name, names.TLS_COMPONENT)

    def obj(kind: str, name: str, body: dict) -> dict:
        return {"apiVersion": API_VERSION, "kind": kind,
                "metadata": cluster.metadata(name, labels, {names.SYNC_WAVE: SYNC_WAVE}),
                "spec": body}

    issuer = issuer_name(cluster)
    config = acme["issuer"]
    account: dict = {"server": config["server"]}
    if config["email"]:
        account["email"] = config["email"]
    account["privateKeySecretRef"] = {
        "name": config["privateKeySecretName"] or f"{issuer}-account-key"}
    account["solvers"] = [solver(entry) for entry in config["solvers"] or []]
    objects = [obj("Issuer", issuer, {"acme": account})]
    seen = set()
    for _, secret, cert in certificates(spec):
        if secret in seen:
            continue  # one Certificate per Secret (check() refuses differing twins)
        seen.add(secret)
        body: dict = {"secretName": secret, "dnsNames": list(dict.fromkeys(cert["dnsNames"]))}
        key = cert["privateKey"] or acme["privateKey"]
        if key:
            body["privateKey"] = {k: v for k, v in key.items() if v is not None}
        body["issuerRef"] = {"name": issuer, "kind": "Issuer", "group": "cert-manager.io"}
        objects.append(obj("Certificate", secret, body))
    return objects


def solver(entry: dict) -> dict:
    """One cert-manager ACMEChallengeSolver from KAAP's solver settings."""
    if entry["http01"] is not None:
        ingress = {}
        if entry["http01"]["ingressClass"]:
            ingress["ingressClassName"] = entry["http01"]["ingressClass"]
        return {"http01": {"ingress": ingress}}
    dns = entry["dns01"]
    if dns["route53"] is not None:
        route53 = dns["route53"]
        body = {key: value for key, value in (("region", route53["region"]),
                                              ("hostedZoneID", route53["hostedZoneId"]))
                if value}
        return {"dns01": {"route53": body}}
    if dns["cloudflare"] is not None:
        cloudflare = dns["cloudflare"]
        body = {"email": cloudflare["email"]} if cloudflare["email"] else {}
        body["apiTokenSecretRef"] = {"name": cloudflare["apiTokenSecretName"],
                                     "key": cloudflare["apiTokenSecretKey"]}
        return {"dns01": {"cloudflare": body}}
    cloud_dns = dns["cloudDNS"]
    body = {"project": cloud_dns["project"]}
    if cloud_dns["serviceAccountSecretName"]:
        body["serviceAccountSecretRef"] = {"name": cloud_dns["serviceAccountSecretName"],
                                           "key": cloud_dns["serviceAccountSecretKey"]}
    return {"dns01": {"cloudDNS": body}}


# --- checks -------------------------------------------------------------------------------------


def check(cluster: Cluster) -> list[SpecError]:
    spec = cluster.spec
    acme = settings(spec)
    if not acme["enabled"]:
        return []
    if not spec["global"]["tls"]["enabled"]:
        return [warning("spec.global.tls.enabled", (
            "certProvisioner.acme.enabled has no effect while global.tls.enabled is false (as "
            "in KAAP); no ACME Issuer or Certificate is rendered. Set global.tls.enabled: "
            "true"))]
    findings = _issuer_problems(acme["issuer"])
    findings.extend(_certificate_problems(spec))
    if not any(f.severity == "error" for f in findings):
        findings.extend(_secret_conflicts(cluster))
        findings.extend(_trust_problems(cluster))
    return findings


def _issuer_problems(issuer: dict) -> list[SpecError]:
    path = f"{PATH}.issuer"
    findings = []
    if not issuer["server"]:
        findings.append(SpecError(f"{path}.server", (
            "the ACME server's directory URL is required, e.g. "
            "https://acme-v02.api.letsencrypt.org/directory (Let's Encrypt) or its staging "
            "directory https://acme-staging-v02.api.letsencrypt.org/directory")))
    elif not str(issuer["server"]).startswith("https://"):
        findings.append(SpecError(f"{path}.server", (
            f"{issuer['server']!r} is not an https:// URL; cert-manager only talks to ACME "
            f"servers over HTTPS")))
    solvers = issuer["solvers"] or []
    if not solvers:
        findings.append(SpecError(f"{path}.solvers", (
            "at least one ACME solver must be configured (KAAP): http01 with an ingress class, "
            "or dns01 with route53, cloudflare or cloudDNS")))
    for index, entry in enumerate(solvers):
        where = child_path(f"{path}.solvers", index)
        if (entry["http01"] is None) == (entry["dns01"] is None):
            findings.append(SpecError(where, (
                "exactly one of http01 or dns01 must be configured per solver (KAAP)")))
            continue
        if entry["dns01"] is None:
            continue
        given = [name for name in DNS_PROVIDERS if entry["dns01"][name] is not None]
        if len(given) != 1:
            findings.append(SpecError(f"{where}.dns01", (
                f"exactly one DNS provider must be configured per solver (KAAP): one of "
                f"{', '.join(DNS_PROVIDERS)}; got {', '.join(given) or 'none'}")))
            continue
        provider = entry["dns01"][given[0]]
        at = f"{where}.dns01.{given[0]}"
        if given[0] == "cloudflare":
            for key in ("apiTokenSecretName", "apiTokenSecretKey"):
                if not provider[key]:
                    findings.append(SpecError(f"{at}.{key}", (
                        f"Cloudflare needs {key}: cert-manager reads the API token from that "
                        f"Secret")))
        elif given[0] == "cloudDNS":
            if not provider["project"]:
                findings.append(SpecError(f"{at}.project", "Cloud DNS needs the project"))
            if provider["serviceAccountSecretName"] and not provider["serviceAccountSecretKey"]:
                findings.append(SpecError(f"{at}.serviceAccountSecretKey", (
                    "the key of the service account file in serviceAccountSecretName is "
                    "required")))
    return findings


def _certificate_problems(spec: dict) -> list[SpecError]:
    acme = settings(spec)
    tls = spec["global"]["tls"]
    findings = []
    entries = [(f"{PATH}.{section}", acme[section], section) for section in COMPONENTS] + [
        (child_path(f"{PATH}.external", service), config or {}, None)
        for service, config in (acme["external"] or {}).items()]
    for path, config, section in entries:
        if not config.get("generate"):
            if config.get("dnsNames") or (section is None and config.get("secretName")):
                findings.append(warning(f"{path}.generate", (
                    "no Certificate is rendered for this entry: KAAP's ACME provisioner "
                    "renders one only with generate: true")))
            continue
        if section is not None and not tls[section]["enabled"]:
            findings.append(warning(f"{path}.generate", (
                f"no ACME Certificate for the {section}s: their TLS is off "
                f"(spec.global.tls.{section}.enabled), as KAAP renders it only with TLS on")))
            continue
        if not config.get("dnsNames"):
            findings.append(SpecError(f"{path}.dnsNames", (
                "an ACME certificate needs the public DNS names it is for (the ACME server "
                "verifies each through the solvers); list them")))
        if section is None and not config.get("secretName"):
            findings.append(SpecError(f"{path}.secretName", (
                "an external service's certificate needs the Secret to write (KAAP)")))
    by_secret: dict[str, tuple[str, dict]] = {}
    for path, secret, config in certificates(spec):
        if secret in by_secret:
            first_path, first = by_secret[secret]
            if (first["dnsNames"], first["privateKey"]) != (config["dnsNames"],
                                                              config["privateKey"]):
                findings.append(SpecError(f"{path}.secretName", (
                    f"{first_path} also writes the Secret {secret!r} with other settings; two "
                    f"Certificates would overwrite each other. Give each its own secretName")))
        else:
            by_secret[secret] = (path, config)
    return findings


def _secret_conflicts(cluster: Cluster) -> list[SpecError]:
    """A Secret both providers write (KAAP refuses the same case)."""
    spec = cluster.spec
    if not security.self_signed(spec) or not security.any_tls(spec):
        return []
    from . import certs

    self_signed = {obj["spec"]["secretName"] for obj in certs.render(cluster)
                   if obj["kind"] == "Certificate"}
    findings = []
    for path, secret, _ in certificates(spec):
        if secret in self_signed:
            findings.append(SpecError(f"{path}.secretName", (
                f"the self-signed provisioner also writes the Secret {secret!r}; both "
                f"certificates would override each other (KAAP refuses this too). Give the ACME "
                f"certificate its own secretName, or set "
                f"certProvisioner.selfSigned.<component>.generate: false for the components "
                f"that mount it")))
    return findings


def _pods(cluster: Cluster) -> list[tuple[str, str | None, TlsPlan]]:
    """``(section, set name, TLS plan)`` of every rendered pod template with certificates."""
    from . import registry
    from .placement import resource_sets

    found: list[tuple[str, str | None, TlsPlan]] = []
    for entry in registry.in_rollout_order():
        if not entry.rendered(cluster.spec):
            continue
        if entry.has_sets:
            for rset in resource_sets(cluster, entry.section):
                if rset.spec["replicas"] > 0:
                    found.append((entry.section, rset.name, cluster.tls_plan(entry.section, rset)))
        else:
            found.append((entry.section, None, cluster.tls_plan(entry.section)))
    return found


def _trust_problems(cluster: Cluster) -> list[SpecError]:
    spec = cluster.spec
    written = {secret: path for path, secret, _ in certificates(spec)}
    if not written:
        return []
    trust_from_secret = security.ca_path(spec).startswith(security.CERTS_DIR + "/")
    pods = _pods(cluster)
    served = {section for section, _, plan in pods if plan.serves and plan.secret in written}
    findings: list[SpecError] = []
    for section, set_name, plan in pods:
        who = section if set_name is None else f"{section} set {set_name!r}"
        secret, client_of = plan.secret, plan.client_of
        if not trust_from_secret:
            continue
        if secret in written and client_of:
            _add(findings, SpecError(f"{written[secret]}.secretName", (
                f"the {who} pods mount the ACME certificate's Secret {secret!r} and trust the "
                f"CA in its ca.crt ({security.ca_path(spec)}), which an ACME issuer does not "
                f"write: their TLS connections to {', '.join(client_of)} fail. Keep ACME "
                f"certificates in a Secret of their own, or trust a CA bundle "
                f"(spec.global.tls.caPath) with the self-signed provisioner off")))
        for server in client_of:
            if server in served:
                _add(findings, SpecError(f"{PATH}.{server}.generate", (
                    f"the {who} pods verify the {server}s against the CA in their own Secret "
                    f"({security.ca_path(spec)}), but the {server}s present the ACME "
                    f"certificate: those connections fail. Use ACME only where clients trust "
                    f"public CAs (spec.global.tls.caPath)")))
    if "broker" in served:
        _add(findings, warning(f"{PATH}.broker.dnsNames", (
            "the brokers present the ACME certificate, which covers only its public names: "
            "in-cluster clients (proxies, the functions worker, the bastion, the brokers' own "
            "client) dial the brokers' in-cluster names and verify host names, and bookies "
            "with TLS need a client certificate; use ACME for the brokers only when those "
            "clients reach them by the public names")))
    for section in sorted(served - set(COMPONENTS)):
        _add(findings, warning(f"spec.global.tls.{section}.secretName", (
            f"the {section} pods serve the ACME certificate (their TLS Secret is the one ACME "
            f"writes), which covers only public names their in-cluster clients do not dial; "
            f"give the brokers or proxies an ACME secretName of their own")))
    if "proxy" in served and spec["bastion"]["replicas"] > 0 and spec["bastion"]["targetProxy"]:
        _add(findings, warning(f"{PATH}.proxy.dnsNames", (
            "the bastion dials the proxies by their in-cluster name and verifies host names, "
            "which the ACME certificate does not cover; its tools fail against the proxies")))
    return findings


def _add(findings: list[SpecError], finding: SpecError) -> None:
    if finding not in findings:
        findings.append(finding)
