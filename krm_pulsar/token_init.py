"""The token bootstrap Job (``global.auth.token.initialize``, KAAP's TokenAuthProvisioner).

KAAP's operator creates the token key pair and one token per superuser role in the cluster.
A renderer must not (keys made at render time would change on every render and end up in
Git), so krm-pulsar renders a Job that does it in the cluster, once:

* Secrets and their keys are KAAP's: ``token-private-key`` (key ``<privateKeyFile>``),
  ``token-public-key`` (key ``<publicKeyFile>``), ``token-<role>`` (key ``<role>.jwt``), so a
  cluster taken over from KAAP keeps its tokens;
* existing Secrets are never changed: the Job reads each one and creates only the missing
  ones; a missing public key is derived from an existing private key (so a run interrupted
  between the two is repaired), a public key without its private key is an error;
* keys come from the Pulsar image's ``bin/pulsar tokens create-key-pair`` and tokens from
  ``bin/pulsar tokens create``; the Kubernetes API is called by a Python script (a ConfigMap,
  readable in Git) run by the Pulsar image's python3 with the pod's ServiceAccount token (the
  Pulsar image has no kubectl, and a second image would be one more thing to pin and pull);
* key material only lives in an in-memory emptyDir of the Job's pod and in the Secrets;
* RBAC is one Role: ``get`` on exactly the Secrets it manages (``resourceNames``) and
  ``create`` on Secrets (Kubernetes cannot restrict ``create`` by name: the name is not known
  when the request is authorized), bound to the Job's own ServiceAccount;
* its name carries a hash of its spec, so a changed role list gives a new Job that runs again,
  and it runs in a wave before the metadata store.
"""

from __future__ import annotations

import json

from . import names, security, workload

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from .cluster import Cluster

SYNC_WAVE = "-1"
COMPONENT_LABEL = names.TOKEN_INIT_COMPONENT
WORK_DIR = "/token-work"
SCRIPT_DIR = "/token-init"
SCRIPT_FILE = "token_init.py"

# Run by the Pulsar image's python3 inside the Job. Plain data in (environment), Secrets out.
SCRIPT = r'''"""Create the missing token key and token Secrets; never change existing ones."""
import base64, json, os, ssl, subprocess, sys, urllib.error, urllib.request

SA = os.environ.get("SERVICE_ACCOUNT_DIR", "/var/run/secrets/kubernetes.io/serviceaccount")
NS = open(SA + "/namespace").read().strip()
# the API server address every pod gets from the kubelet (what client libraries use)
API = "https://%s:%s/api/v1/namespaces/%s/secrets" % (
    os.environ["KUBERNETES_SERVICE_HOST"], os.environ["KUBERNETES_SERVICE_PORT"], NS)
CTX = ssl.create_default_context(cafile=SA + "/ca.crt")
WORK = os.environ["WORK_DIR"]
PRIVATE_KEY_FILE = os.environ["PRIVATE_KEY_FILE"]
PUBLIC_KEY_FILE = os.environ["PUBLIC_KEY_FILE"]
ROLES = os.environ["TOKEN_ROLES"].split(",")
LABELS = json.loads(os.environ["SECRET_LABELS"])


def call(method, url, body=None):
    token = open(SA + "/token").read().strip()
    request = urllib.request.Request(url, method=method, data=body, headers={
        "Authorization": "Bearer " + token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, context=CTX, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, {}


def get(name):
    status, secret = call("GET", API + "/" + name)
    if status == 404:
        return None
    if status != 200:
        sys.exit("cannot read Secret %s: HTTP %s" % (name, status))
    return secret


def create(name, key, content):
    body = json.dumps({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                       "metadata": {"name": name, "labels": LABELS},
                       "data": {key: base64.b64encode(content).decode()}}).encode()
    status, _ = call("POST", API, body)
    if status == 409:
        sys.exit("Secret %s appeared meanwhile; the Job retries and keeps it" % name)
    if status != 201:
        sys.exit("cannot create Secret %s: HTTP %s" % (name, status))
    print("created Secret " + name)


def value(secret, name, key):
    data = (secret or {}).get("data") or {}
    if key not in data:
        sys.exit("Secret %s has no key %s; fix or delete it" % (name, key))
    return base64.b64decode(data[key])


def pulsar(*args):
    return subprocess.run(["bin/pulsar", "tokens", *args], check=True,
                          stdout=subprocess.PIPE).stdout


private_path = os.path.join(WORK, "private.key")
public_path = os.path.join(WORK, "public.key")
private = get("token-private-key")
public = get("token-public-key")
if private is None and public is not None:
    sys.exit("Secret token-public-key exists without token-private-key; tokens cannot be "
             "signed. Delete token-public-key or create token-private-key")
if private is None:
    pulsar("create-key-pair", "--output-private-key", private_path,
           "--output-public-key", public_path)
    create("token-private-key", PRIVATE_KEY_FILE, open(private_path, "rb").read())
else:
    open(private_path, "wb").write(value(private, "token-private-key", PRIVATE_KEY_FILE))
    print("kept existing Secret token-private-key")
if public is None:
    if private is not None:  # an earlier run stopped between the two: derive the public key
        subprocess.run(["openssl", "pkey", "-inform", "DER", "-in", private_path, "-pubout",
                        "-outform", "DER", "-out", public_path], check=True)
    create("token-public-key", PUBLIC_KEY_FILE, open(public_path, "rb").read())
else:
    value(public, "token-public-key", PUBLIC_KEY_FILE)
    print("kept existing Secret token-public-key")
for role in ROLES:
    name = "token-" + role
    if get(name) is not None:
        print("kept existing Secret " + name)
        continue
    output = pulsar("create", "--private-key", "file://" + private_path, "--subject", role)
    create(name, role + ".jwt", output.strip().splitlines()[-1])  # the token is the last line
'''


def needed(spec: dict) -> bool:
    return security.auth_on(spec) and bool(security.token(spec)["initialize"])


def render(cluster: Cluster) -> list:
    spec = cluster.spec
    if not needed(spec):
        return []
    conf = security.token(spec)
    roles = security.token_roles(spec)
    name = f"{cluster.name}-token-init"
    labels = names.base_labels(cluster.name, COMPONENT_LABEL)
    annotations = {names.SYNC_WAVE: SYNC_WAVE}
    secret_names = ["token-private-key", "token-public-key"] + [f"token-{r}" for r in roles]
    broker = spec["broker"]
    container = {
        "name": "token-init",
        "image": broker["image"],
        "imagePullPolicy": broker["imagePullPolicy"],
        "command": ["python3", f"{SCRIPT_DIR}/{SCRIPT_FILE}"],
        "env": [
            {"name": "WORK_DIR", "value": WORK_DIR},
            {"name": "PRIVATE_KEY_FILE", "value": conf["privateKeyFile"]},
            {"name": "PUBLIC_KEY_FILE", "value": conf["publicKeyFile"]},
            {"name": "TOKEN_ROLES", "value": ",".join(roles)},
            {"name": "SECRET_LABELS", "value": json.dumps(
                names.cluster_labels(cluster.name), sort_keys=True)},
        ],
        "volumeMounts": [{"name": "work", "mountPath": WORK_DIR},
                         {"name": "script", "mountPath": SCRIPT_DIR, "readOnly": True}],
    }
    # key material never touches a disk
    pod = workload.job_pod(cluster, broker, container, service_account=name, volumes=[
        {"name": "work", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}},
        {"name": "script", "configMap": {"name": name}}])
    # the script's checksum in the template: a changed script makes a new Job (Jobs are
    # immutable; render.render names every Job after its spec, workload.name_jobs)
    job_spec = {"backoffLimit": 6,
                "template": {"metadata": {"labels": dict(labels), "annotations": {
                    names.SCRIPT_CHECKSUM: workload.content_hash(SCRIPT)}},
                             "spec": pod}}
    subject = {"kind": "ServiceAccount", "name": name}
    if cluster.namespace:
        subject["namespace"] = cluster.namespace
    meta = cluster.metadata
    return [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(name, labels, annotations),
         "data": {SCRIPT_FILE: SCRIPT.lstrip("\n")}},
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": meta(name, labels, annotations)},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": meta(name, labels, annotations),
         "rules": [
             {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"],
              "resourceNames": secret_names},
             # create cannot be limited by resourceNames (the name is unknown at authorization)
             {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]},
         ]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": meta(name, labels, annotations),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
         "subjects": [subject]},
        {"apiVersion": "batch/v1", "kind": "Job",
         "metadata": meta(name, labels, annotations),
         "spec": job_spec},
    ]
