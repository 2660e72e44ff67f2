"""Bookie rack registration without an operator (bookkeeper.autoRackConfig)."""

import copy
import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from k8s import assert_valid
from conftest import render_without_info
from krm_pulsar import placement, render

SPEC = {
    "global": {
        "racks": {"az1": {"zone": {"enabled": True}}, "az2": {"zone": {"enabled": True}}},
        "resourceSets": {"a": {"rack": "az1"}, "b": {"rack": "az2"}, "free": {}},
    },
    # one bookie without rack and one ZooKeeper member: no zone-quorum warnings
    # (placement/zones.py; two zones cannot keep a ZooKeeper majority out of one anyway)
    "bookkeeper": {"sets": {"a": {"replicas": 2}, "b": {"replicas": 1}, "free": {"replicas": 1}}},
    "zookeeper": {"replicas": 1},
}


def render_spec(spec, namespace="prod"):
    metadata = {"name": "pulsar"}
    if namespace:
        metadata["namespace"] = namespace
    objects, findings = render_without_info({"apiVersion": "krm-pulsar.io/v1alpha1",
                                       "kind": "PulsarCluster", "metadata": metadata,
                                       "spec": copy.deepcopy(spec)})
    assert not [f for f in findings if f.severity == "error"], findings
    return objects, findings


def rack_jobs(spec, **kwargs):
    objects, _ = render_spec(spec, **kwargs)
    return [o for o in objects if o["kind"] == "Job" and "-bookie-racks-" in o["metadata"]["name"]]


def the_job(spec=SPEC, **kwargs):
    [job] = rack_jobs(spec, **kwargs)
    return job


def script_of(job):
    return job["spec"]["template"]["spec"]["containers"][0]["args"][0]


def test_job_registers_only_bookies_of_racked_sets():
    lines = [line for line in script_of(the_job()).splitlines() if line.startswith("register ")]
    assert lines == [
        "register pulsar-bookkeeper-a-0.pulsar-bookkeeper-a az1",
        "register pulsar-bookkeeper-a-1.pulsar-bookkeeper-a az1",
        "register pulsar-bookkeeper-b-0.pulsar-bookkeeper-b az2",
    ]


def test_job_is_valid_and_needs_no_kubernetes_api_access():
    job = the_job()
    assert_valid([job])
    pod = job["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert "serviceAccountName" not in pod
    objects, _ = render_spec(SPEC)
    assert not any(o["kind"] in ("Role", "RoleBinding", "ClusterRole", "ServiceAccount")
                   for o in objects)


def test_job_pod_is_not_selected_by_any_bookie_object():
    objects, _ = render_spec(SPEC)
    job_labels = the_job()["spec"]["template"]["metadata"]["labels"]
    for obj in objects:
        selector = obj["spec"].get("selector") if isinstance(obj.get("spec"), dict) else None
        if not selector:
            continue
        match = selector.get("matchLabels", selector)
        assert not all(job_labels.get(k) == v for k, v in match.items()), obj["metadata"]["name"]


def test_job_runs_after_the_brokers():
    objects, _ = render_spec(SPEC)
    wave = {o["metadata"]["name"]: int(o["metadata"]["annotations"][placement.SYNC_WAVE])
            for o in objects}
    job = the_job()["metadata"]["name"]
    assert wave[job] > wave["pulsar-broker"] > wave["pulsar-bookkeeper-b"]


def test_job_name_follows_the_bookie_layout_and_nothing_else():
    name = the_job()["metadata"]["name"]
    assert name == the_job()["metadata"]["name"]  # deterministic
    more = copy.deepcopy(SPEC)
    more["bookkeeper"]["sets"]["b"]["replicas"] = 2
    moved = copy.deepcopy(SPEC)
    moved["global"]["resourceSets"]["a"]["rack"] = "az2"
    unrelated = copy.deepcopy(SPEC)
    unrelated["broker"] = {"replicas": 5}
    names = {the_job(s)["metadata"]["name"] for s in (more, moved)}
    assert len(names | {name}) == 3
    assert the_job(unrelated)["metadata"]["name"] == name
    assert len(name) <= 63


@pytest.mark.parametrize("change", [
    {"bookkeeper": {"autoRackConfig": {"enabled": False}, "sets": {"a": {}}}},
    {"bookkeeper": {"sets": {"free": {}}}},
    {"broker": {"replicas": 0}},
])
def test_no_job_when_disabled_without_racked_bookies_or_without_brokers(change):
    spec = copy.deepcopy(SPEC)
    spec.update(change)
    assert rack_jobs(spec) == []


def test_runtime_only_auto_rack_settings_are_reported():
    spec = copy.deepcopy(SPEC)
    spec["bookkeeper"]["autoRackConfig"] = {"periodMs": 30000}
    _, findings = render_spec(spec)
    assert [(f.path, f.severity) for f in findings] == [
        ("spec.bookkeeper.autoRackConfig.periodMs", "warning")]


# --- the script itself, against a fake broker -------------------------------------------------

FAKE_CURL = textwrap.dedent('''\
    #!{python}
    """curl as the brokers' racks-info endpoint answers it; state in $FAKE_STATE."""
    import json, os, sys
    state_file = os.environ["FAKE_STATE"]
    state = json.load(open(state_file))
    if state["down"] > 0:
        state["down"] -= 1
        json.dump(state, open(state_file, "w"))
        sys.exit(7)  # connection refused
    args = sys.argv[1:]
    url = args[-1]
    # with TLS and auth on: https, the cluster CA and the superuser token on every call
    required = os.environ.get("FAKE_REQUIRE")
    if required:
        token, ca = required.split("|")
        if not (url.startswith("https://") and "--cacert" in args
                and args[args.index("--cacert") + 1] == ca
                and "Authorization: Bearer " + token in args):
            state["violations"].append(args)
    fail = any(a.startswith("-") and not a.startswith("--") and "f" in a for a in args)
    bookie, _, query = url.rsplit("/", 1)[1].partition("?")
    if "-X" in args:
        body = json.loads(args[args.index("-d") + 1])
        group = query.split("group=")[1]
        state["racks"].setdefault(group, {{}})[bookie] = body
        state["posts"].append([group, bookie, body])
        json.dump(state, open(state_file, "w"))
        sys.exit(0)
    for group in state["racks"].values():
        if bookie in group:
            print(json.dumps(group[bookie], separators=(",", ":")), end="")
            sys.exit(0)
    print('{{"reason":"Bookie rack placement configuration not found: ' + bookie + '"}}', end="")
    sys.exit(22 if fail else 0)
''')


@pytest.fixture
def fake_broker(tmp_path):
    if not shutil.which("sh") or not shutil.which("grep"):
        pytest.skip("needs sh and grep")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    curl = bin_dir / "curl"
    curl.write_text(FAKE_CURL.format(python=sys.executable))
    curl.chmod(0o755)
    sleep = bin_dir / "sleep"
    sleep.write_text("#!/bin/sh\nexit 0\n")
    sleep.chmod(0o755)
    state = tmp_path / "state.json"

    def run(script, racks=None, down=0, require=None):
        if racks is not None or not state.exists():
            state.write_text(json.dumps({"down": down, "racks": racks or {}, "posts": [],
                                         "violations": []}))
        else:
            data = json.loads(state.read_text())
            data.update(down=down, posts=[])
            state.write_text(json.dumps(data))
        env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
                   FAKE_STATE=str(state), POD_NAMESPACE="prod")
        if require:
            env["FAKE_REQUIRE"] = require
        out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, env=env,
                             timeout=60)
        assert out.returncode == 0, out.stderr
        return json.loads(state.read_text()), out.stdout
    return run


BOOKIE_A0 = "pulsar-bookkeeper-a-0.pulsar-bookkeeper-a.prod.svc.cluster.local:3181"


def test_script_registers_every_bookie_and_is_idempotent(fake_broker):
    script = script_of(the_job())
    state, _ = fake_broker(script, racks={})
    assert [post[1] for post in state["posts"]] == [
        BOOKIE_A0,
        "pulsar-bookkeeper-a-1.pulsar-bookkeeper-a.prod.svc.cluster.local:3181",
        "pulsar-bookkeeper-b-0.pulsar-bookkeeper-b.prod.svc.cluster.local:3181",
    ]
    assert state["racks"]["defaultgroup"][BOOKIE_A0] == {"rack": "az1/unknown-node",
                                                         "hostname": BOOKIE_A0}
    again, output = fake_broker(script)
    assert again["posts"] == []
    assert output.count("is already in rack") == 3


def test_script_keeps_entries_it_does_not_own_and_node_names_it_finds(fake_broker):
    manual = {"rack": "elsewhere/n1", "hostname": "other:3181"}
    known = {"rack": "az1/node-17", "hostname": BOOKIE_A0}
    state, _ = fake_broker(script_of(the_job()), racks={
        "defaultgroup": {BOOKIE_A0: known}, "mine": {"other:3181": manual}})
    assert state["racks"]["defaultgroup"][BOOKIE_A0] == known
    assert state["racks"]["mine"]["other:3181"] == manual
    assert len(state["posts"]) == 2


def test_script_moves_a_bookie_whose_rack_changed(fake_broker):
    stale = {"rack": "az2/node-1", "hostname": BOOKIE_A0}
    state, _ = fake_broker(script_of(the_job()), racks={"defaultgroup": {BOOKIE_A0: stale}})
    assert state["racks"]["defaultgroup"][BOOKIE_A0]["rack"] == "az1/unknown-node"


def test_script_waits_for_the_brokers(fake_broker):
    state, output = fake_broker(script_of(the_job()), racks={}, down=4)
    assert len(state["posts"]) == 3
    assert "retrying" in output


def test_without_region_awareness_the_rack_has_no_node_level(fake_broker):
    spec = copy.deepcopy(SPEC)
    spec["broker"] = {"config": {"bookkeeperClientRegionawarePolicyEnabled": False}}
    state, _ = fake_broker(script_of(the_job(spec)), racks={})
    assert state["racks"]["defaultgroup"][BOOKIE_A0]["rack"] == "az1"


def test_unnamespaced_cluster_takes_the_namespace_at_run_time(fake_broker):
    job = the_job(namespace=None)
    assert "namespace" not in job["metadata"]
    assert "http://pulsar-broker:8080/admin/v2/bookies/racks-info" in script_of(job)
    state, _ = fake_broker(script_of(job), racks={})
    assert BOOKIE_A0 in state["racks"]["defaultgroup"]


def test_with_broker_tls_and_auth_the_script_uses_https_the_ca_and_the_token(fake_broker,
                                                                            tmp_path):
    spec = copy.deepcopy(SPEC)
    spec["global"]["tls"] = {"broker": {"enabled": True}}
    spec["global"]["auth"] = {"enabled": True}
    job = the_job(spec)
    pod = job["spec"]["template"]["spec"]
    assert {v["name"]: v["secret"]["secretName"] for v in pod["volumes"]} == {
        "certs": "pulsar-tls", "token-superuser": "token-superuser"}
    assert pod["automountServiceAccountToken"] is False
    token_file = tmp_path / "superuser.jwt"
    token_file.write_text("the-token\n")
    script = script_of(job).replace("/pulsar/token-superuser/superuser.jwt", str(token_file))
    assert "admin=https://pulsar-broker.prod.svc.cluster.local:8443/" in script
    state, _ = fake_broker(script, racks={}, require="the-token|/etc/ssl/certs/ca-certificates.crt")
    assert len(state["posts"]) == 3
    assert state["violations"] == []
    # the fake does check: without TLS and auth the same requirement is violated
    plain, _ = fake_broker(script_of(the_job()), racks={},
                           require="the-token|/etc/ssl/certs/ca-certificates.crt")
    assert plain["violations"]


def test_the_registration_job_has_a_deadline():
    """If the brokers keep refusing the registration, the Job fails instead of running (and
    holding an Argo CD sync) forever."""
    from krm_pulsar import rack_registration

    config = {"apiVersion": "krm-pulsar.io/v1alpha1", "kind": "PulsarCluster",
              "metadata": {"name": "p"}, "spec": {
                  "global": {"racks": {"r1": {}, "r2": {}},
                             "resourceSets": {"a": {"rack": "r1"}, "b": {"rack": "r2"}}},
                  "bookkeeper": {"sets": {"a": {}, "b": {}}}}}
    objects, findings = render_without_info(config)
    [job] = [o for o in objects if o["kind"] == "Job" and "-bookie-racks-" in o["metadata"]["name"]]
    assert job["spec"]["activeDeadlineSeconds"] == rack_registration.DEADLINE_SECONDS
