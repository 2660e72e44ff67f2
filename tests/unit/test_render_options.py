"""`krm-pulsar render --image/--namespace`: the overrides the Argo CD plugin passes."""

import yaml

from conftest import FIXTURES, object_key, run_cli
from k8s import assert_valid


def rendered(args, stdin=b""):
    out = run_cli(["render", *args], stdin)
    assert out.returncode == 0, out.stderr
    return list(yaml.safe_load_all(out.stdout))


def pod_images(docs):
    images = set()
    for doc in docs:
        pod = doc.get("spec", {}).get("template", {}).get("spec", {})
        images |= {c["image"] for c in pod.get("containers", []) + pod.get("initContainers", [])}
    return images


def test_no_override_is_the_spec():
    docs = rendered([str(FIXTURES / "minimal.yaml")])
    assert all("namespace" not in d["metadata"] for d in docs)
    assert len(pod_images(docs)) == 1 and "example.com" not in next(iter(pod_images(docs)))


def test_namespace_override_moves_objects_and_qualifies_addresses():
    plain = rendered([str(FIXTURES / "minimal.yaml")])
    docs = rendered(["--namespace=streaming", str(FIXTURES / "minimal.yaml")])
    # the same objects (a Job's content hash follows its qualified addresses)
    assert [object_key(d) for d in docs] == [object_key(d) for d in plain]
    assert {d["metadata"]["namespace"] for d in docs} == {"streaming"}
    broker = next(d for d in docs if d["kind"] == "ConfigMap"
                  and d["metadata"]["name"] == "pulsar-broker")
    assert broker["data"]["PULSAR_PREFIX_zookeeperServers"] == (
        "pulsar-zookeeper-ca.streaming.svc.cluster.local:2181")
    assert_valid(docs)


def test_namespace_override_replaces_the_spec_namespace():
    docs = rendered(["--namespace", "other", str(FIXTURES / "namespaced.yaml")])
    assert {d["metadata"]["namespace"] for d in docs} == {"other"}
    assert all(d["metadata"]["annotations"]["krm-pulsar.io/generated-from"] == "other/prod"
               for d in docs)


def test_image_override_sets_the_global_image_only():
    config = (b"apiVersion: krm-pulsar.io/v1alpha1\nkind: PulsarCluster\nmetadata:\n"
              b"  name: p\nspec:\n  global:\n    image: old/pulsar:1\n"
              b"  proxy:\n    image: pinned/proxy:2\n")
    docs = rendered(["--image=example.com/pulsar:3", "-"], config)
    assert pod_images(docs) == {"example.com/pulsar:3", "pinned/proxy:2"}
    proxy = next(d for d in docs if d["kind"] == "Deployment")
    assert {c["image"] for c in proxy["spec"]["template"]["spec"]["containers"]} == {
        "pinned/proxy:2"}


def test_empty_values_mean_no_override():
    assert rendered(["--image=", "--namespace=", str(FIXTURES / "minimal.yaml")]) == rendered(
        [str(FIXTURES / "minimal.yaml")])


def test_bad_options_fail_with_empty_stdout():
    for args, message in (
            (["--namespace=Bad_Name"], b"is not a valid namespace name"),
            (["--namespace=" + "a" * 64], b"is not a valid namespace name"),
            (["--image=has space"], b"must not contain spaces"),
            (["--replicas=3"], b"unknown render option '--replicas=3'"),
            (["--image"], b"--image needs a value")):
        out = run_cli(["render", *args, str(FIXTURES / "minimal.yaml")] if args != ["--image"]
                      else ["render", str(FIXTURES / "minimal.yaml"), "--image"])
        assert out.returncode != 0 and out.stdout == b"", args
        assert out.stderr.startswith(b"krm-pulsar: error: ") and message in out.stderr, (
            args, out.stderr)


def test_a_malformed_spec_is_reported_not_crashed():
    out = run_cli(["render", "--image=x/y:1", "-"],
                  b"apiVersion: krm-pulsar.io/v1alpha1\nkind: PulsarCluster\nmetadata:\n"
                  b"  name: p\nspec:\n  global: [1, 2]\n")
    assert out.returncode == 1 and out.stdout == b""
    assert b"spec.global" in out.stderr and b"Traceback" not in out.stderr
