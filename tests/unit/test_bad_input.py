"""The bad-input catalog in docs/bad-input.md, checked against the real process.

Every row of the table names a case built here; the test runs `krm-pulsar` on it and checks the
exact stderr line, the exit code, that stdout is one ResourceList with the error result, and that
every input item that could be read comes back unchanged. A row without a case, or a case without
a row, fails: the table cannot rot.
"""

from __future__ import annotations

import re

import pytest
import yaml

from conftest import ROOT, run_cli
from krm_pulsar import krm, yamlio

DOC = ROOT / "docs" / "bad-input.md"
HEADER = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"


def resource_list(items_yaml: str) -> str:
    return HEADER + "items:\n" + items_yaml


def cluster(name: str = "p", spec: str = "{}") -> str:
    return (f"- apiVersion: krm-pulsar.io/v1alpha1\n  kind: PulsarCluster\n"
            f"  metadata: {{name: {name}}}\n  spec: {spec}\n")


OTHER = "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: mine}\n  data: {on: yes}\n"


def alias_bomb() -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 9):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def fifty_megabytes() -> bytes:
    item = OTHER.encode()
    count = 50 * 1024 * 1024 // len(item) + 1
    return resource_list("").encode() + item * count


# case id -> input bytes or text. Items are compared against what the input holds.
CASES = {
    "empty": "",
    "whitespace": "  \n\n",
    "not-yaml": "a: [1\n",
    "not-utf8": b"\xff\xfe\x00a",
    "alias-bomb": alias_bomb(),
    "duplicate-key": resource_list(
        "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: x}\n  metadata: {name: y}\n"),
    "unsupported-tag": "!!python/object:os.system {}\n",
    "no-items": HEADER,
    "items-not-a-list": HEADER + "items: 3\n",
    "item-not-a-mapping": resource_list("- just a string\n" + cluster()),
    "document-not-a-mapping": "42\n",
    "wrong-resource-list-version": "apiVersion: v1\nkind: ResourceList\nitems: []\n",
    "no-cluster": resource_list(OTHER),
    "missing-name": resource_list(
        "- apiVersion: krm-pulsar.io/v1alpha1\n  kind: PulsarCluster\n  metadata: {}\n"),
    "spec-not-a-mapping": resource_list(OTHER + cluster(spec="[1, 2]")),
    "wrong-type": resource_list(OTHER + cluster(spec="{zookeeper: {replicas: three}}")),
    "wrong-type-bool": resource_list(cluster(spec="{global: {persistence: 'no'}}")),
    "unknown-field": resource_list(OTHER + cluster(spec="{broker: {replicsa: 3}}")),
    "unknown-field-case": resource_list(cluster(spec="{broker: {Replicas: 3}}")),
    "unknown-field-far": resource_list(cluster(spec="{broker: {colour: blue}}")),
    "negative-replicas": resource_list(cluster(spec="{broker: {replicas: -1}}")),
    "absurd-replicas": resource_list(cluster(spec="{bookkeeper: {replicas: 100000}}")),
    "invalid-volume-size": resource_list(cluster(spec="{zookeeper: {dataVolume: {size: 2Gix}}}")),
    "invalid-resource-quantity": resource_list(
        cluster(spec="{broker: {resources: {requests: {memory: 2Gix}}}}")),
    "invalid-name": resource_list(OTHER + cluster(name="Pulsar_1")),
    "invalid-global-name": resource_list(cluster(spec="{global: {name: pulsar.prod}}")),
    "name-too-long": resource_list(cluster(spec="{global: {name: " + "p" * 41 + "}}")),
    "invalid-label": resource_list(cluster(spec="{broker: {labels: {team: a b}}}")),
    "undeclared-set": resource_list(cluster(spec="{broker: {sets: {blue: {}}}}")),
    "invalid-set-name": resource_list(cluster(spec="{global: {resourceSets: {Blue_1: {}}}}")),
    "invalid-rack-name": resource_list(cluster(spec="{global: {racks: {Zone_A: {}}}}")),
    "undeclared-rack": resource_list(
        cluster(spec="{global: {resourceSets: {blue: {rack: zone-a}}}}")),
    "undeclared-component-set": resource_list(cluster(
        spec="{global: {resourceSets: {blue: {}}}, bookkeeper: {sets: {green: {}}}}")),
    "zookeeper-with-oxia": resource_list(
        cluster(spec="{oxia: {enabled: true}, zookeeper: {replicas: 3}}")),
    "functions-on-oxia-without-package-storage": resource_list(
        cluster(spec="{oxia: {enabled: true}, broker: {functionsWorkerEnabled: true}}")),
    "package-claim-read-write-once": resource_list(cluster(
        spec="{broker: {replicas: 3, packageManagement: {enabled: true, "
             "fileSystemStorage: {enabled: true}}}}")),
    "patch-targets-nothing": resource_list(OTHER + cluster(
        spec="{patches: [{target: {kind: StatefulSet, name: p-brokers}, "
             "patch: [{op: add, path: /metadata/annotations/a, value: b}]}]}")),
    "forbidden-env": resource_list(
        cluster(spec="{zookeeper: {env: [{name: ZOOKEEPER_SERVERS, value: 'zk-0:2181'}]}}")),
    "private-key-in-spec": resource_list(OTHER + cluster(
        spec='{broker: {config: {tlsKey: "-----BEGIN PRIVATE KEY-----\\nMIIEvQ\\n'
             '-----END PRIVATE KEY-----\\n"}}}')),
    "unsupported-feature": resource_list(cluster(
        spec="{global: {tls: {certProvisioner: {selfSigned: {external: "
             "{console: {dnsNames: [console.example.com]}}}}}}}")),
    "colliding-clusters": resource_list(
        OTHER + cluster("a", "{global: {name: p}}") + cluster("b", "{global: {name: p}}")),
    "k8s-number-for-string": resource_list(OTHER + cluster(
        spec="{broker: {env: [{name: A, value: 2}]}}")),
    "k8s-unknown-field": resource_list(cluster(
        spec="{broker: {tolerations: [{key: a, efect: NoSchedule}]}}")),
    "k8s-missing-field": resource_list(cluster(spec="{zookeeper: {initContainers: [{image: b}]}}")),
    "k8s-enum": resource_list(cluster(spec="{proxy: {tolerations: [{operator: Equals}]}}")),
    "k8s-kaap-security-context": resource_list(
        "- apiVersion: kaap.oss.datastax.com/v1beta1\n  kind: PulsarCluster\n"
        "  metadata: {name: p}\n"
        "  spec: {bookkeeper: {securityContext: {seccompProfile: {type: RuntimeDefault}}}}\n"),
    "k8s-patched-object": resource_list(cluster(
        spec="{patches: [{target: {kind: ConfigMap, name: p-broker}, "
             "patch: [{op: add, path: /data/extra, value: 5}]}]}")),
    "fifty-megabytes": fifty_megabytes(),
}

# The stderr line is a code span: `line`, or `` line `` when the line itself holds backticks.
ROW = re.compile(r"^\| `(?P<id>[a-z0-9-]+)` \| (?P<case>[^|]+) \| "
                 r"(?:`(?P<line>[^`]+)`|`` (?P<quoted>.+?) ``) \|$")


def catalog() -> dict:
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            assert match["id"] not in rows, f"row {match['id']} twice in {DOC.name}"
            rows[match["id"]] = match["line"] or match["quoted"]
    return rows


def test_every_case_has_a_row_and_every_row_a_case():
    rows = catalog()
    assert len(rows) >= 20
    assert sorted(rows) == sorted(CASES)


def input_items(data: bytes) -> list:
    """The items as the input holds them, or [] when the input cannot be read at all."""
    if len(data) > krm.DEFAULT_MAX_INPUT_MB * 1024 * 1024:  # refused unread
        return []
    try:
        docs = yamlio.load_all(data.decode("utf-8"))
    except (UnicodeDecodeError, yamlio.YAMLInputError):
        return []
    if len(docs) == 1 and isinstance(docs[0], dict) and docs[0].get("kind") == "ResourceList":
        items = docs[0].get("items")
        return items if isinstance(items, list) else []
    return docs


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_gets_the_documented_error(case):
    data = CASES[case]
    data = data.encode("utf-8") if isinstance(data, str) else data
    expected_line = catalog()[case]
    out = run_cli([], data)
    stderr = out.stderr.decode("utf-8")
    assert out.returncode == 1, stderr
    assert "Traceback" not in stderr
    assert stderr == expected_line + "\n"
    output = yaml.safe_load(out.stdout)
    assert output["apiVersion"] == "config.kubernetes.io/v1"
    assert output["kind"] == "ResourceList"
    errors = [r for r in output["results"] if r["severity"] == "error"]
    assert len(errors) == 1
    # the stderr line carries the result's message and, when there is one, its field path
    assert " ".join(errors[0]["message"].split()) in expected_line
    path = (errors[0].get("field") or {}).get("path") or (errors[0].get("tags") or {}).get("field")
    if path:
        assert path in expected_line
    # every item that could be read comes back unchanged, in order
    assert yamlio.load_all(out.stdout.decode("utf-8"))[0]["items"] == input_items(data)


def test_field_errors_point_at_the_cluster():
    out = run_cli([], CASES["invalid-resource-quantity"].encode())
    result = yaml.safe_load(out.stdout)["results"][0]
    assert result["resourceRef"] == {"apiVersion": "krm-pulsar.io/v1alpha1",
                                     "kind": "PulsarCluster", "name": "p"}
    assert result["field"] == {"path": "spec.broker.resources.requests.memory"}


def test_size_limit_can_be_raised(tmp_path):
    from conftest import tool_env

    env = dict(tool_env(), KRM_PULSAR_MAX_INPUT_MB="1")
    small_but_over = resource_list(OTHER * (1024 * 1024 // len(OTHER) + 1) + cluster())
    assert run_cli([], small_but_over, env=env).returncode == 1
    env["KRM_PULSAR_MAX_INPUT_MB"] = "2"
    out = run_cli([], small_but_over, env=env)
    assert out.returncode == 0, out.stderr
