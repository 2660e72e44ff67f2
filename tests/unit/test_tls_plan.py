"""The TLS plan of each component and set (krm_pulsar/tls_plan.py), and the Certificates
derived from the plans."""

from __future__ import annotations

from krm_pulsar import model, render
from krm_pulsar.cluster import Cluster


def _cluster(spec: dict, namespace: str = "pulsar") -> Cluster:
    config = {"apiVersion": model.API_VERSION, "kind": model.KIND,
              "metadata": {"name": "pulsar", "namespace": namespace}, "spec": spec}
    resolved, findings = render.load(config)
    assert resolved is not None, findings
    return Cluster(resolved, config)


def test_a_proxy_that_only_dials_zookeeper_tls_mounts_and_converts_everything():
    cluster = _cluster({"global": {"tls": {"zookeeper": {"enabled": True}}}})
    plan = cluster.tls_plan("proxy", cluster.sets["proxy"][0])
    assert (plan.serves, plan.client_of, plan.secret) == (False, ("zookeeper",), "pulsar-tls")
    assert plan.pk8 and plan.jks  # KAAP's proxy converts whatever it mounts


def test_a_broker_that_only_dials_tls_bookies_needs_pkcs8_but_no_stores():
    cluster = _cluster({"global": {"tls": {"bookkeeper": {"enabled": True,
                                                          "secretName": "bk-tls"}}}})
    plan = cluster.tls_plan("broker", cluster.sets["broker"][0])
    assert (plan.serves, plan.client_of, plan.secret) == (False, ("bookkeeper",), "pulsar-tls")
    assert plan.pk8 and not plan.jks


def test_the_bastion_mounts_the_secret_of_its_target():
    cluster = _cluster({"global": {"tls": {"proxy": {"enabled": True,
                                                     "secretName": "proxy-tls"}}}})
    plan = cluster.tls_plan("bastion")
    assert (plan.client_of, plan.secret, plan.pk8, plan.jks) == (("proxy",), "proxy-tls",
                                                                 False, False)
    no_tls = _cluster({}).tls_plan("bastion")
    assert (no_tls.mounted, no_tls.volume()) == (False, ([], []))


def test_each_plan_is_computed_once():
    cluster = _cluster({})
    assert cluster.tls_plan("zookeeper") is cluster.tls_plan("zookeeper")


def test_the_rack_registration_job_gets_a_client_certificate_for_the_brokers_secret():
    """Found by rendering property-generated clusters with the start commit and the reshaped
    code: when every rendered broker set has a Secret of its own, only the rack registration
    Job mounts the brokers' top-level Secret, which still needs a (client) Certificate."""
    spec = {
        "global": {
            "racks": {"r1": {"zone": {"enabled": True}}, "r2": {"zone": {"enabled": True}}},
            "resourceSets": {"green": {"rack": "r1"}, "b1": {"rack": "r1"},
                             "b2": {"rack": "r2"}},
            "tls": {"enabled": True, "broker": {"enabled": True,
                                                "secretName": "pulsar-broker-tls"},
                    "brokerResourceSets": {"green": {"secretName": "green-tls"}},
                    "certProvisioner": {"selfSigned": {"enabled": True}}},
        },
        "bookkeeper": {"sets": {"b1": {}, "b2": {}}},
        "broker": {"sets": {"green": {}}},
    }
    config = {"apiVersion": model.API_VERSION, "kind": model.KIND,
              "metadata": {"name": "pulsar", "namespace": "pulsar"}, "spec": spec}
    objects, findings = render.render(config)
    assert not [f for f in findings if f.severity == "error"], findings
    certificates = {obj["metadata"]["name"]: obj["spec"] for obj in objects
                    if obj["kind"] == "Certificate"}
    assert certificates["pulsar-broker-tls"]["commonName"] == "rack-registration"
    assert certificates["pulsar-broker-tls"]["usages"] == ["client auth"]
    assert "dnsNames" in certificates["green-tls"]
