"""Bookie rack registration without an operator (``bookkeeper.autoRackConfig``,
kaap-parity.md#rack-registration).

KAAP's operator writes every bookie of a racked set into the metadata store's ``/bookies`` map
(``<rack>/<node>``) and keeps it current. krm-pulsar renders one Job instead:

* it registers each bookie through the brokers' admin REST API (what ``pulsar-admin bookies
  set-bookie-rack`` calls), so it works whatever the metadata store is (ZooKeeper or Oxia) and
  needs no Kubernetes API access at all (no ServiceAccount token, no RBAC);
* its name carries a hash of its whole spec, so a changed bookie layout (replicas, sets,
  racks, names) or image gives a new Job that runs again, while an unchanged layout keeps the
  finished Job and nothing runs;
* it is idempotent: a bookie already registered in its rack (with any node) is left alone,
  other entries of ``/bookies`` (manual ones, other groups) are never touched.

Trade-offs against the alternatives (per-bookie init or sidecar containers, a CronJob for
``periodMs``) are written down in docs/racks.md.
"""

from __future__ import annotations

from . import names, placement, security, tls_plan, workload
from .endpoints import BOOKIE, number

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from .cluster import Cluster

# KAAP's group name in /bookies, kept so a cluster moved from KAAP keeps its entries.
GROUP = "defaultgroup"
# KAAP's node placeholder for a bookie whose pod is not scheduled (node names are only known at
# run time; the region-aware policy needs the two-level path "<rack>/<node>").
UNKNOWN_NODE = "unknown-node"
COMPONENT_LABEL = names.RACK_REGISTRATION_COMPONENT
CONTAINER = "rack-registration"
RETRY_SECONDS = 10
# The registration waits for the brokers, which come up in an earlier sync wave; if they still
# refuse it after this long (a wrong token, missing authorization), the Job fails visibly
# instead of holding an Argo CD sync forever.
DEADLINE_SECONDS = 1800


def bookies(cluster: Cluster) -> list:
    """``[(bookie pod name, headless Service name, rack)]`` for every bookie of a racked set,
    in set declaration order (KAAP: sets without a rack contribute nothing)."""
    result = []
    for rset in placement.resource_sets(cluster, "bookkeeper"):
        if not rset.rack:
            continue
        for ordinal in range(rset.spec["replicas"]):
            result.append((f"{rset.resource_name}-{ordinal}", rset.resource_name, rset.rack))
    return result


def needed(cluster: Cluster) -> bool:
    if not cluster.spec["bookkeeper"]["autoRackConfig"]["enabled"]:
        return False
    brokers = placement.resource_sets(cluster, "broker")
    return bool(bookies(cluster)) and any(s.spec["replicas"] > 0 for s in brokers)


def script(cluster: Cluster) -> str:
    """The shell script of the Job: one ``register`` line per bookie.

    Bookie ids are what bookies announce with ``useHostNameAsBookieID``
    (kaap-parity.md#rack-registration):
    ``<pod>.<service>.<namespace>.svc.<domain>:3181``. The namespace is read from the pod at
    run time, so the Job follows a later kustomize ``namespace:``.
    """
    region_aware = placement.region_aware(cluster.spec)
    # https and the cluster's CA when the brokers have TLS; the superuser token with auth
    admin = f"{cluster.broker_client_web_service_url}admin/v2/bookies/racks-info"
    curl_opts = []
    if cluster.broker_tls:
        curl_opts.append(f"--cacert {security.ca_path(cluster.spec)}")
    if security.auth_on(cluster.spec):
        curl_opts.append('-H "Authorization: Bearer $(tr -d \'\\r\\n\' < '
                         '/pulsar/token-superuser/superuser.jwt)"')
    curl = " ".join(["curl", *curl_opts])
    lines = [
        "set -u",
        f"admin={admin}",
        "register() {",
        '  id="$1.${POD_NAMESPACE}.svc.' + cluster.domain
        + f':{number("bookkeeper", BOOKIE)}"',
        '  rack="$2"',
        "  while true; do",
        f'    current="$({curl} -s --max-time 10 "${{admin}}/${{id}}" || true)"',
        # already in this rack (with any node, e.g. one KAAP wrote): leave it as it is
        '    if printf "%s" "${current}" | grep -Eq "\\"rack\\":\\"/?${rack}(/|\\")"; then',
        '      echo "${id} is already in rack ${rack}"; return 0',
        "    fi",
        '    body="{\\"rack\\":\\"${rack}' + (f"/{UNKNOWN_NODE}" if region_aware else "")
        + '\\",\\"hostname\\":\\"${id}\\"}"',
        f'    if {curl} -sf --max-time 10 -X POST -H "Content-Type: application/json" '
        f'-d "${{body}}" "${{admin}}/${{id}}?group={GROUP}"; then',
        '      echo "registered ${id} in rack ${rack}"; return 0',
        "    fi",
        f'    echo "brokers do not accept the registration of ${{id}} yet (answer: '
        f'${{current:-none}}); retrying in {RETRY_SECONDS}s"',
        f"    sleep {RETRY_SECONDS}",
        "  done",
        "}",
    ]
    for pod, service, rack in bookies(cluster):
        lines.append(f"register {pod}.{service} {rack}")
    return "\n".join(lines) + "\n"


def tls(cluster: Cluster) -> tls_plan.TlsPlan:
    """A client of the brokers' admin API, trusting the CA of the brokers' Secret."""
    return tls_plan.client_plan(cluster, security.secret_name(cluster.spec, "broker"),
                                ("broker",))


def render(cluster: Cluster) -> list:
    if not needed(cluster):
        return []
    spec = cluster.spec["bookkeeper"]
    container = {
        "name": CONTAINER,
        "image": spec["image"],
        "imagePullPolicy": spec["imagePullPolicy"],
        "command": ["sh", "-c"],
        "args": [script(cluster)],
        "env": [{"name": "POD_NAMESPACE",
                 "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}],
    }
    mounts, volumes = tls(cluster).volume()
    if security.auth_on(cluster.spec):
        token_mounts, token_volumes = security.token_volumes(("superuser",))
        mounts += token_mounts
        volumes += token_volumes
    if mounts:
        container["volumeMounts"] = mounts
    # least privilege: the Job talks to the brokers only, never to the Kubernetes API
    pod = workload.job_pod(cluster, spec, container, automount_token=False, volumes=volumes)
    # Pod labels deliberately differ from the bookies' selector labels (component), so no
    # bookie Service, StatefulSet or PDB selects the Job's pod.
    labels = names.base_labels(cluster.name, COMPONENT_LABEL)
    job_spec = {"activeDeadlineSeconds": DEADLINE_SECONDS,
                "template": {"metadata": {"labels": dict(labels)}, "spec": pod}}
    # render.render appends the content hash of the spec (workload.name_jobs)
    name = f"{cluster.name}-bookie-racks"
    waves = placement.sync_waves(cluster)
    # after the brokers: the registration goes through them
    annotations = {names.SYNC_WAVE: str(waves[("autorecovery", None)])}
    return [{
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": cluster.metadata(name, labels, annotations),
        "spec": job_spec,
    }]
