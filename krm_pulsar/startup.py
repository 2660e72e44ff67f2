"""Start-up order without an operator: the waits and the retried one-shot steps.

``kubectl apply -k``, Flux and kpt apply every object at once, and only Argo CD honours sync
waves. So the order must hold inside the pods (docs/runtime.md):

* each bookie's init container formats the BookKeeper metadata if nobody has yet
  (``initnewcluster``), and leaves only once ``whatisinstanceid`` reads the instance id: a
  failure is printed and retried, never swallowed, and the bookie never starts on an
  unformatted store (with Oxia the cluster metadata Job formats another Oxia namespace);
* brokers and autorecovery wait for the BookKeeper instance id; brokers also wait for the
  cluster metadata (``/admin/clusters/<cluster>``, written by the metadata Job);
* the one-shot Jobs retry their command until it succeeds, each attempt bounded by the Job's
  ``timeout``, so a slow metadata store never uses up the Job's ``backoffLimit``.

Every loop waits for the metadata store too, since each of its checks needs an answer from
it. The commands are those of Pulsar 4.0's image: ``bin/bookkeeper shell whatisinstanceid``
and ``initnewcluster`` exit non-zero when the metadata is missing or the store does not
answer; ``bin/pulsar zookeeper-shell -r -server <zk> get <path>`` exits non-zero when the node
is missing; ``bin/pulsar initialize-cluster-metadata`` is idempotent.
"""

from __future__ import annotations

import copy

from . import jvm, model

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from .cluster import Cluster

RETRY_PAUSE_SECONDS = 5
# One attempt of a wait: one BookKeeper shell or ZooKeeper shell JVM talking to the store.
CHECK_TIMEOUT_SECONDS = 60


def tool_env() -> list:
    """A small heap for the CLI JVMs of init containers and Jobs (over a ConfigMap's
    ``BOOKIE_MEM``/``PULSAR_MEM``: ``env`` wins over ``envFrom``)."""
    flags = jvm.with_memory("tool", model.INIT_CONTAINER_RESOURCES, "-XX:+ExitOnOutOfMemoryError")
    return [{"name": "PULSAR_MEM", "value": flags}, {"name": "BOOKIE_MEM", "value": flags}]


def retry(command: str, what: str, timeout: int = CHECK_TIMEOUT_SECONDS,
          announce: str = "") -> str:
    """``until timeout <t> <command>; do ...; done``: runs `command` until it exits 0, printing
    each failure with its exit code."""
    body = f'echo "krm-pulsar: {what} failed (exit $?){announce}; retrying in ' \
           f'{RETRY_PAUSE_SECONDS} s"; sleep {RETRY_PAUSE_SECONDS}'
    return f"until timeout {timeout} {command}; do {body}; done"


def init_container(spec: dict, name: str, args: str, *, env: list | None = None,
                   env_from: list[str] | None = None,
                   mounts: list | None = None) -> dict:
    """One of our init containers: the component's image, ``sh -c``, small requests."""
    container = {
        "name": name,
        "image": spec["image"],
        "imagePullPolicy": spec["imagePullPolicy"],
        "command": ["sh", "-c"],
        "args": [args],
        "resources": copy.deepcopy(model.INIT_CONTAINER_RESOURCES),
        "env": list(env or []) + tool_env(),
    }
    if env_from:
        container["envFrom"] = [{"configMapRef": {"name": cm}} for cm in env_from]
    if mounts:
        container["volumeMounts"] = list(mounts)
    return container


def zookeeper_tls_client(cluster: Cluster, certs_secret: str) -> tuple[str, list[dict]]:
    """``(steps, mounts)`` a ZooKeeper TLS client needs, or empty ones. The pod has the
    certificates volume already: every ZooKeeper client pod mounts it with ZooKeeper TLS
    (tls_plan)."""
    from .tls_plan import client_plan

    plan = client_plan(cluster, certs_secret, ("zookeeper",))
    return plan.steps(cluster), plan.mounts()


def bookkeeper_metadata_env(cluster: Cluster) -> list:
    """Where BookKeeper keeps its metadata, as env for apply-config-from-env.py (the keys the
    bookies get from cluster.metadata_store_keys)."""
    from .workload import config_data

    data = config_data(cluster.metadata_store_keys("bookkeeper"), None)
    return [{"name": key, "value": value} for key, value in data.items()]


def format_bookkeeper_args(pre_steps: str) -> str:
    """The bookie init container: format the BookKeeper metadata once, then check it."""
    format_once = ("bin/bookkeeper shell initnewcluster || echo \"krm-pulsar: initnewcluster "
                   "failed (exit $?); another bookie may have formatted first\"")
    return (
        pre_steps + "bin/apply-config-from-env.py conf/bookkeeper.conf && "
        + f"until timeout {CHECK_TIMEOUT_SECONDS} bin/bookkeeper shell whatisinstanceid; do "
        "echo \"krm-pulsar: no BookKeeper instance id yet (exit $?): formatting the BookKeeper "
        "metadata\"; "
        f"timeout {CHECK_TIMEOUT_SECONDS} {format_once}; sleep {RETRY_PAUSE_SECONDS}; done"
    )


def wait_bookkeeper(cluster: Cluster, spec: dict, certs_secret: str,
                    name: str = "wait-bookkeeper") -> dict:
    """An init container that waits until the BookKeeper instance id can be read."""
    steps, mounts = zookeeper_tls_client(cluster, certs_secret)
    args = (steps + "bin/apply-config-from-env.py conf/bookkeeper.conf && "
            + retry("bin/bookkeeper shell whatisinstanceid", "reading the BookKeeper instance id",
                    announce=" (the bookies format the metadata)"))
    return init_container(spec, name, args, env=bookkeeper_metadata_env(cluster),
                          mounts=mounts)


def wait_cluster_metadata(cluster: Cluster, spec: dict, certs_secret: str,
                          name: str = "wait-cluster-metadata") -> dict:
    """An init container that waits until the cluster metadata exists.

    On ZooKeeper it reads ``/admin/clusters/<cluster>`` with the ZooKeeper shell, as the Helm
    chart does. Pulsar's image has no client that reads Oxia, so on Oxia it runs the metadata
    Job's own idempotent ``initialize-cluster-metadata`` until it succeeds: the broker starts
    only on initialized metadata, whichever of the two gets there first.
    """
    from .workload import cluster_metadata_command

    steps, mounts = zookeeper_tls_client(cluster, certs_secret)
    if cluster.oxia:
        check = retry(cluster_metadata_command(cluster), "initializing the cluster metadata")
    else:
        check = retry(f"bin/pulsar zookeeper-shell -r -server {cluster.zookeeper_connect} "
                      f"get /admin/clusters/{cluster.cluster_name}",
                      f"reading the metadata of cluster {cluster.cluster_name}",
                      announce=" (the metadata Job writes it)")
    return init_container(spec, name, steps + check, mounts=mounts)
