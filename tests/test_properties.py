"""Properties of the whole function, checked on generated inputs (hypothesis).

* any valid spec renders objects that validate against the Kubernetes schemas of the oldest and
  newest minors we support (tests/k8s.py: 1.30 and 1.37);
* output is byte-identical across runs and across PYTHONHASHSEED values;
* feeding the output back in gives the same output (idempotence);
* items that are not ours come back unchanged, scalar for scalar (types and written text).

Specs are generated from the fields the renderers read today (replicas, resources, labels,
annotations, config, volumes, PDBs, anti-affinity, resource sets and racks, persistence,
restartOnConfigMapChange, namespace, both API versions). Example counts are kept moderate so the
suite stays fast on a 2-core machine.
"""

from __future__ import annotations

import json
import subprocess

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import KRM_PULSAR, tool_env
from k8s import VERSIONS, assert_valid
from pss import restricted_violations
from test_security import REFUSED_PATTERNS, secret_findings
from krm_pulsar import krm, render, yamlio

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# --- spec strategies ----------------------------------------------------------------------------

dns_label = st.from_regex(r"[a-z]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
label_value = st.from_regex(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,10}[A-Za-z0-9])?)?", fullmatch=True)
# user label keys that do not replace the base selector keys (app, component, cluster)
label_key = st.sampled_from(["team", "tier", "example.com/owner", "cost-center", "env"])
labels = st.dictionaries(label_key, label_value.filter(bool), max_size=3)
annotations = st.dictionaries(
    st.sampled_from(["example.com/note", "owner", "backup.velero.io/backup-volumes"]),
    st.text(max_size=20), max_size=2)

binary_unit = st.sampled_from(["Ki", "Mi", "Gi", "Ti"])
quantity = st.one_of(
    st.builds(lambda n, u: f"{n}{u}", st.integers(1, 4096), binary_unit),
    st.builds(lambda n: f"{n}m", st.integers(1, 64000)),
    st.sampled_from(["0.5", "1", "2", "1.5"]),
    st.integers(1, 64),
)
resources = st.fixed_dictionaries({}, optional={
    "requests": st.fixed_dictionaries({}, optional={"cpu": quantity, "memory": quantity}),
    "limits": st.fixed_dictionaries({}, optional={"cpu": quantity, "memory": quantity}),
})

config_key = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,15}", fullmatch=True)
config_value = st.one_of(
    st.text(max_size=30), st.integers(-10**6, 10**6), st.booleans(),
    st.sampled_from(["yes", "0755", "1e3", "null", "on", "2024-01-01", "a: b", "- x", "#"]),
)
config = st.dictionaries(config_key, config_value, max_size=4)

pdb = st.one_of(
    st.fixed_dictionaries({"enabled": st.booleans()}),
    st.fixed_dictionaries({"minAvailable": st.integers(0, 2)}),
    st.fixed_dictionaries({"maxUnavailable": st.one_of(st.integers(1, 2),
                                                       st.sampled_from(["25%", "50%"]))}),
)
anti_rule = st.fixed_dictionaries({}, optional={"enabled": st.booleans(),
                                                "required": st.booleans()})


def component(max_replicas: int = 4, **extra):
    return st.fixed_dictionaries({}, optional={
        "replicas": st.integers(0, max_replicas),
        "resources": resources,
        "labels": labels,
        "podLabels": labels,
        "annotations": annotations,
        "podAnnotations": annotations,
        "config": config,
        "pdb": pdb,
        "gracePeriod": st.integers(0, 120),
        "nodeSelectors": st.dictionaries(label_key, label_value.filter(bool), max_size=2),
        "antiAffinity": st.fixed_dictionaries({}, optional={"host": anti_rule,
                                                            "zone": anti_rule}),
        **extra,
    })


volume = st.fixed_dictionaries({}, optional={"size": quantity})
SET_NAMES = ["blue", "green", "rack-a", "rack-b", "c1"]
RACKS = ["r1", "r2", "r3"]
rack = st.fixed_dictionaries({}, optional={
    "host": st.fixed_dictionaries({}, optional={"enabled": st.booleans(),
                                                "requireRackAffinity": st.booleans(),
                                                "requireRackAntiAffinity": st.booleans()}),
    "zone": st.fixed_dictionaries({}, optional={"enabled": st.booleans(),
                                                "requireRackAffinity": st.booleans(),
                                                "enableHostAntiAffinity": st.booleans()}),
})


@st.composite
def specs(draw):
    racks = draw(st.dictionaries(st.sampled_from(RACKS), rack, max_size=3))
    declared = draw(st.lists(st.sampled_from(SET_NAMES), unique=True, max_size=4))
    resource_sets = {}
    for name in declared:
        choice = draw(st.sampled_from([None, *sorted(racks)]))
        resource_sets[name] = {"rack": choice} if choice else {}
    glob = draw(st.fixed_dictionaries({}, optional={
        "name": dns_label,
        "persistence": st.booleans(),
        "restartOnConfigMapChange": st.booleans(),
        "antiAffinity": st.fixed_dictionaries({}, optional={"host": anti_rule,
                                                            "zone": anti_rule}),
        "nodeSelectors": st.dictionaries(label_key, label_value.filter(bool), max_size=2),
        "priorityClassName": dns_label,
        "networkPolicies": st.fixed_dictionaries({"enabled": st.booleans()}),
        "image": st.sampled_from(["apachepulsar/pulsar:3.0.7", "apachepulsar/pulsar:4.0.12",
                                  "registry.example.com/pulsar:2.10.5"]),
    }))
    if racks:
        glob["racks"] = racks
    if resource_sets:
        glob["resourceSets"] = resource_sets
    spec = {"global": glob}
    spec["zookeeper"] = draw(component(5, dataVolume=volume))
    spec["bookkeeper"] = draw(component(volumes=st.fixed_dictionaries(
        {}, optional={"journal": volume, "ledgers": volume})))
    spec["broker"] = draw(component())
    spec["proxy"] = draw(component(webSocket=st.fixed_dictionaries(
        {}, optional={"enabled": st.booleans(), "resources": resources})))
    for section in ("bookkeeper", "broker", "proxy"):
        names = draw(st.lists(st.sampled_from(declared), unique=True, max_size=3)) \
            if declared else []
        if names:
            spec[section]["sets"] = {name: draw(component(3)) for name in names}
    return spec


@st.composite
def clusters(draw):
    metadata = {"name": draw(dns_label)}
    if draw(st.booleans()):
        metadata["namespace"] = draw(dns_label)
    api_version = draw(st.sampled_from(["krm-pulsar.io/v1alpha1",
                                        "kaap.oss.datastax.com/v1beta1"]))
    return {"apiVersion": api_version, "kind": "PulsarCluster", "metadata": metadata,
            "spec": draw(specs())}


def resource_list(items, function_config=None) -> bytes:
    rl = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items}
    if function_config is not None:
        rl["functionConfig"] = function_config
    return yamlio.dump(rl).encode("utf-8")


# --- properties ---------------------------------------------------------------------------------


@SETTINGS
@given(clusters())
def test_any_valid_spec_renders_schema_valid_objects(config):
    objects, findings = render.render(config)
    errors = [f for f in findings if f.severity == "error"]
    assert not errors, errors
    if config["spec"]["zookeeper"].get("replicas", 3) > 0:  # not vacuous: ZooKeeper is there
        assert any(o["kind"] == "StatefulSet" and o["metadata"]["labels"]["component"]
                   == "zookeeper" for o in objects)
    assert_valid(objects, VERSIONS)
    if config["apiVersion"] == "krm-pulsar.io/v1alpha1":  # restricted pod security by default
        assert restricted_violations(objects) == []
    assert secret_findings(yamlio.dump_all(objects), REFUSED_PATTERNS) == []


@settings(SETTINGS, max_examples=6)
@given(clusters())
def test_output_is_byte_identical_across_runs_and_hash_seeds(config):
    data = resource_list([config], function_config=config)
    outputs = set()
    for seed in ("0", "1", "4242"):
        env = dict(tool_env(), PYTHONHASHSEED=seed)
        proc = subprocess.run([KRM_PULSAR], input=data, capture_output=True, env=env,
                              timeout=60)
        assert proc.returncode == 0, proc.stderr
        outputs.add(proc.stdout)
    assert len(outputs) == 1
    # and in-process, twice
    assert krm.run(data)[0].encode("utf-8") in outputs
    assert krm.run(data)[0].encode("utf-8") in outputs


@SETTINGS
@given(clusters())
def test_feeding_the_output_back_gives_the_same_output(config):
    first, _, code = krm.run(resource_list([config], function_config=config))
    assert code == 0
    second, _, code = krm.run(first.encode("utf-8"))
    assert code == 0
    assert second == first
    # and once more with the config only as functionConfig (kustomize generator style)
    items = yamlio.load_all(first)[0]["items"]
    third, _, _ = krm.run(resource_list(items[1:], function_config=config))
    reordered = yamlio.load_all(third)[0]["items"]
    assert sorted(map(yamlio.dump, reordered)) == sorted(map(yamlio.dump, items[1:]))


# --- items that are not ours --------------------------------------------------------------------

# Plain scalars whose written text matters: YAML 1.1 readers take several of them for booleans,
# octals, dates or floats, and numbers must keep the text they were written with.
PLAIN_TOKENS = ["0x1F", "+3", "007", "1e3", ".inf", "-.inf", ".nan", "0o17", "12", "-0",
                "1.50", "yes", "on", "No", "~", "null", "2024-01-01", "12:30", "true", "1_000"]

leaf = st.one_of(
    st.none(), st.booleans(), st.integers(-2**63, 2**63), st.floats(allow_nan=False),
    st.text(max_size=40),
    st.sampled_from(PLAIN_TOKENS),
    st.sampled_from(["line one\nline two\n", "trailing\n\n", " lead", "tab\there", "é ü 中",
                     "a: b", "- x", "# not a comment", "'q'", '"dq"', "\u2028", "key:", ""]),
)
content = st.recursive(
    leaf,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.text(min_size=1, max_size=12), children,
                                               max_size=4)),
    max_leaves=20,
)


@st.composite
def foreign_items(draw):
    count = draw(st.integers(1, 4))
    items = []
    for index in range(count):
        item = {"apiVersion": draw(st.sampled_from(["v1", "example.com/v1", "apps/v1"])),
                "kind": draw(st.sampled_from(["ConfigMap", "Thing", "Deployment"])),
                "metadata": {"name": f"item-{index}"}}
        extra = draw(st.dictionaries(st.sampled_from(["data", "spec", "status", "x"]), content,
                                     max_size=3))
        item.update(extra)
        items.append(item)
    return items


def typed(value):
    """A canonical form that tells 1, 1.0, True and '1' apart (== does not)."""
    if isinstance(value, dict):
        return {"map": [[typed(k), typed(v)] for k, v in value.items()]}
    if isinstance(value, list):
        return {"seq": [typed(v) for v in value]}
    if isinstance(value, float):
        return {"float": repr(value)}
    return {type(value).__name__.lstrip("Y").lower(): value}


@SETTINGS
@given(foreign_items(), clusters())
def test_items_that_are_not_ours_come_back_unchanged(items, config):
    data = resource_list([*items, config])
    output, _, code = krm.run(data)
    assert code == 0
    returned = yamlio.load_all(output)[0]["items"][:len(items)]
    assert json.dumps(typed(returned)) == json.dumps(typed(items))
    # and a YAML 1.1 reader (PyYAML, many CI tools) reads the same strings back
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    assert yaml.load(output, Loader=loader)["items"][:len(items)] == yaml.load(
        yamlio.dump({"items": items}), Loader=loader)["items"]


# How each token is written back: numbers keep their text; strings that a YAML 1.1 reader would
# take for something else are quoted; null is written one way.
WRITTEN_BACK = {
    "0x1F": "0x1F", "+3": "+3", "007": "007", "1e3": "1e3", ".inf": ".inf", "-.inf": "-.inf",
    ".nan": ".nan", "0o17": "0o17", "12": "12", "-0": "-0", "1.50": "1.50",
    "yes": '"yes"', "on": '"on"', "No": '"No"', "~": "null", "null": "null",
    "2024-01-01": '"2024-01-01"', "12:30": '"12:30"', "true": "true", "1_000": '"1_000"',
}


@SETTINGS
@given(st.lists(st.sampled_from(PLAIN_TOKENS), min_size=1, max_size=8))
def test_plain_scalars_of_foreign_items_keep_their_written_text(tokens):
    def thing(values):
        return ("- apiVersion: example.com/v1\n  kind: Thing\n  metadata:\n    name: t\n"
                "  spec:\n" + "".join(f"    k{i}: {v}\n" for i, v in enumerate(values)))

    config = "- apiVersion: krm-pulsar.io/v1alpha1\n  kind: PulsarCluster\n  metadata:\n    name: p\n"
    head = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
    output, _, code = krm.run((head + thing(tokens) + config).encode())
    assert code == 0
    expected = thing([WRITTEN_BACK[token] for token in tokens])
    assert output.startswith(head + expected + config)


@SETTINGS
@given(foreign_items())
def test_libyaml_and_pure_python_parsers_read_the_same(items):
    text = yamlio.dump({"items": items})
    fast = yamlio.load_all(text)
    slow = yamlio._load_yaml_documents(text, parser_class=yamlio._PyParser)
    assert json.dumps(typed(fast)) == json.dumps(typed(slow))


def test_libyaml_parser_is_used_when_available():
    assert yaml.__with_libyaml__, "PyYAML without libyaml: reading is 8x slower"
    assert yamlio._parser_class() is not yamlio._PyParser

