"""ACME certificates (issue 15 item 5, docs/tls.md#acme): KAAP's certProvisioner.acme renders a
cert-manager ACME Issuer and Certificates for the brokers' and proxies' public names, with
KAAP's fields and semantics; what cannot work is refused or warned at its field."""

from __future__ import annotations

import copy

import pytest

import cert_manager
from krm_pulsar import acme
from unit.feature_support import KAAP, errors_of, of_kind, paths, render_spec, warnings_of

LETS_ENCRYPT = "https://acme-v02.api.letsencrypt.org/directory"
ISSUER = {"server": LETS_ENCRYPT, "email": "ops@example.com",
          "solvers": [{"dns01": {"route53": {"region": "eu-west-1"}}}]}
PROXY_ACME = {"global": {"tls": {
    "enabled": True, "proxy": {"enabled": True},
    "certProvisioner": {"acme": {"enabled": True, "issuer": ISSUER, "proxy": {
        "generate": True, "dnsNames": ["pulsar.example.com"]}}}}}}


def with_acme(**changes):
    spec = copy.deepcopy(PROXY_ACME)
    spec["global"]["tls"]["certProvisioner"]["acme"].update(changes)
    return spec


def cert_manager_objects(objects):
    return [o for o in objects if o["apiVersion"].startswith("cert-manager.io/")]


@pytest.mark.parametrize("api_version", ["krm-pulsar.io/v1alpha1", KAAP])
def test_an_issuer_and_the_proxies_certificate(api_version):
    objects, _ = render_spec(PROXY_ACME, api_version=api_version)
    issuers = of_kind(objects, "Issuer")
    certificates = of_kind(objects, "Certificate")
    assert sorted(issuers) == ["pulsar-acme-issuer"]
    account = issuers["pulsar-acme-issuer"]["spec"]["acme"]
    assert account == {"server": LETS_ENCRYPT, "email": "ops@example.com",
                       "privateKeySecretRef": {"name": "pulsar-acme-issuer-account-key"},
                       "solvers": [{"dns01": {"route53": {"region": "eu-west-1"}}}]}
    # the proxies' Secret (tls.proxy.secretName, the default one here), named after it
    assert certificates == {"pulsar-tls": certificates["pulsar-tls"]}
    spec = certificates["pulsar-tls"]["spec"]
    assert spec == {"secretName": "pulsar-tls", "dnsNames": ["pulsar.example.com"],
                    "issuerRef": {"name": "pulsar-acme-issuer", "kind": "Issuer",
                                  "group": "cert-manager.io"}}
    # the proxies mount it; they trust the system CA bundle, which knows the ACME CA
    proxy = of_kind(objects, "ConfigMap")["pulsar-proxy"]["data"]
    assert proxy["PULSAR_PREFIX_tlsTrustCertsFilePath"] == "/etc/ssl/certs/ca-certificates.crt"
    cert_manager.assert_valid(cert_manager_objects(objects))


def test_kaaps_solvers_become_cert_managers():
    solvers = [
        {"http01": {"ingressClass": "nginx"}},
        {"dns01": {"route53": {"region": "us-east-1", "hostedZoneId": "Z1"}}},
        {"dns01": {"cloudflare": {"email": "cf@example.com", "apiTokenSecretName": "cf",
                                  "apiTokenSecretKey": "token"}}},
        {"dns01": {"cloudDNS": {"project": "p", "serviceAccountSecretName": "sa",
                                "serviceAccountSecretKey": "key.json"}}},
        {"http01": {}},
    ]
    objects, _ = render_spec(with_acme(issuer={**ISSUER, "name": "le", "solvers": solvers,
                                               "privateKeySecretName": "le-account"}))
    issuer = of_kind(objects, "Issuer")["le"]["spec"]["acme"]
    assert issuer["privateKeySecretRef"] == {"name": "le-account"}
    assert issuer["solvers"] == [
        {"http01": {"ingress": {"ingressClassName": "nginx"}}},
        {"dns01": {"route53": {"region": "us-east-1", "hostedZoneID": "Z1"}}},
        {"dns01": {"cloudflare": {"email": "cf@example.com",
                                  "apiTokenSecretRef": {"name": "cf", "key": "token"}}}},
        {"dns01": {"cloudDNS": {"project": "p", "serviceAccountSecretRef": {
            "name": "sa", "key": "key.json"}}}},
        {"http01": {"ingress": {}}},
    ]
    assert of_kind(objects, "Certificate")["pulsar-tls"]["spec"]["issuerRef"]["name"] == "le"
    cert_manager.assert_valid(cert_manager_objects(objects))


def test_secret_name_private_key_and_external_entries():
    objects, _ = render_spec(with_acme(
        privateKey={"algorithm": "ECDSA", "size": 256},
        proxy={"generate": True, "dnsNames": ["a.example.com", "a.example.com"],
               "secretName": "public-tls", "privateKey": {"algorithm": "RSA", "size": 4096}},
        external={"console": {"generate": True, "secretName": "console-tls",
                              "dnsNames": ["console.example.com"]},
                  "grafana": {"generate": False}}))
    certificates = of_kind(objects, "Certificate")
    assert sorted(certificates) == ["console-tls", "public-tls"]
    assert certificates["public-tls"]["spec"]["dnsNames"] == ["a.example.com"]
    assert certificates["public-tls"]["spec"]["privateKey"] == {"algorithm": "RSA",
                                                               "size": 4096}
    assert certificates["console-tls"]["spec"]["privateKey"] == {"algorithm": "ECDSA",
                                                                "size": 256}
    cert_manager.assert_valid(cert_manager_objects(objects))


def test_kaaps_switches_decide_what_is_rendered():
    # generate is KAAP's: without true, no Certificate (and a warning when dnsNames are given)
    objects, findings = render_spec(with_acme(proxy={"dnsNames": ["a.example.com"]}))
    assert not of_kind(objects, "Certificate")
    assert "spec.global.tls.certProvisioner.acme.proxy.generate" in paths(findings)
    # the component's TLS must be on
    spec = with_acme(broker={"generate": True, "dnsNames": ["b.example.com"]})
    objects, findings = render_spec(spec)
    assert sorted(of_kind(objects, "Certificate")) == ["pulsar-tls"]
    assert "spec.global.tls.certProvisioner.acme.broker.generate" in paths(findings)
    # global.tls.enabled is needed, as for the self-signed provisioner
    spec = copy.deepcopy(PROXY_ACME)
    spec["global"]["tls"]["enabled"] = False
    objects, findings = render_spec(spec)
    assert not of_kind(objects, "Issuer")
    assert "spec.global.tls.enabled" in paths(findings)


@pytest.mark.parametrize("changes,path", [
    ({"issuer": {**ISSUER, "server": None}}, "issuer.server"),
    ({"issuer": {**ISSUER, "server": "http://acme.example.com"}}, "issuer.server"),
    ({"issuer": {**ISSUER, "solvers": []}}, "issuer.solvers"),
    ({"issuer": {**ISSUER, "solvers": [{}]}}, "issuer.solvers[0]"),
    ({"issuer": {**ISSUER, "solvers": [{"http01": {}, "dns01": {"route53": {}}}]}},
     "issuer.solvers[0]"),
    ({"issuer": {**ISSUER, "solvers": [{"dns01": {}}]}}, "issuer.solvers[0].dns01"),
    ({"issuer": {**ISSUER, "solvers": [{"dns01": {"route53": {}, "cloudDNS": {
        "project": "p"}}}]}}, "issuer.solvers[0].dns01"),
    ({"issuer": {**ISSUER, "solvers": [{"dns01": {"cloudflare": {"email": "x"}}}]}},
     "issuer.solvers[0].dns01.cloudflare.apiTokenSecretName"),
    ({"issuer": {**ISSUER, "solvers": [{"dns01": {"cloudDNS": {}}}]}},
     "issuer.solvers[0].dns01.cloudDNS.project"),
    ({"proxy": {"generate": True}}, "proxy.dnsNames"),
    ({"external": {"console": {"generate": True, "dnsNames": ["c.example.com"]}}},
     "external.console.secretName"),
    ({"issuer": {**ISSUER, "solvers": [{"http01": {"class": "nginx"}}]}},
     "issuer.solvers[0].http01.class"),
])
def test_what_cannot_work_is_an_error_at_its_field(changes, path):
    assert f"spec.global.tls.certProvisioner.acme.{path}" in paths(errors_of(with_acme(**changes)))


SELF_SIGNED = {"enabled": True}


def test_a_secret_both_provisioners_write_is_refused():
    spec = copy.deepcopy(PROXY_ACME)
    spec["global"]["tls"]["certProvisioner"]["selfSigned"] = SELF_SIGNED
    assert "spec.global.tls.certProvisioner.acme.proxy.secretName" in paths(errors_of(spec))


def test_self_signed_trust_and_acme_certificates_do_not_mix():
    # the proxies mount the ACME Secret but would read the self-signed CA from its ca.crt
    spec = copy.deepcopy(PROXY_ACME)
    tls = spec["global"]["tls"]
    tls["certProvisioner"]["selfSigned"] = {"enabled": True, "proxy": {"generate": False}}
    tls["broker"] = {"enabled": True, "secretName": "internal-tls"}
    tls["proxy"]["secretName"] = "public-tls"
    found = errors_of(spec)
    assert "spec.global.tls.certProvisioner.acme.proxy.secretName" in paths(found)
    assert "ca.crt" in found[0].message
    # brokers presenting the ACME certificate to clients that trust the self-signed CA
    spec = copy.deepcopy(PROXY_ACME)
    tls = spec["global"]["tls"]
    tls["certProvisioner"]["selfSigned"] = {"enabled": True, "broker": {"generate": False}}
    tls["proxy"] = {"enabled": False}
    tls["broker"] = {"enabled": True, "secretName": "public-tls"}
    tls["bookkeeper"] = {"enabled": True, "secretName": "internal-tls"}
    tls["certProvisioner"]["acme"]["broker"] = {"generate": True, "dnsNames": ["b.example.com"]}
    assert "spec.global.tls.certProvisioner.acme.broker.secretName" in paths(errors_of(spec))


def test_brokers_with_an_acme_certificate_get_a_warning_about_in_cluster_names():
    spec = with_acme(broker={"generate": True, "dnsNames": ["b.example.com"],
                             "secretName": "broker-tls"})
    spec["global"]["tls"]["broker"] = {"enabled": True, "secretName": "broker-tls"}
    assert "spec.global.tls.certProvisioner.acme.broker.dnsNames" in paths(warnings_of(spec))


def test_a_bastion_that_dials_the_proxies_is_warned():
    spec = copy.deepcopy(PROXY_ACME)
    assert "spec.global.tls.certProvisioner.acme.proxy.dnsNames" in paths(warnings_of(spec))
    spec["bastion"] = {"targetProxy": False}
    assert warnings_of(spec) == []


def test_certificates_lists_what_acme_writes():
    from krm_pulsar import model

    resolved = model.with_defaults(PROXY_ACME, {"name": "p"}, model.API_VERSION)
    assert [(path, secret) for path, secret, _ in acme.certificates(resolved)] == [
        ("spec.global.tls.certProvisioner.acme.proxy", "pulsar-tls")]
