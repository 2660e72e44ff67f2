"""TLS and token authentication: what each component mounts, runs and configures (KAAP's
``global.tls`` and ``global.auth``, kaap-parity.md#conventions).

Everything here is decided from the resolved spec; no key or certificate is ever produced at
render time. Certificates come from Secrets (made by the user or by cert-manager, see certs.py),
token keys and tokens from Secrets (made by the user or by the token Job, see token_init.py).

Paths follow KAAP so a cluster taken over from KAAP keeps its Secrets and configuration:
the component's TLS Secret is mounted at ``/pulsar/certs`` (``tls.crt``, ``tls.key``,
``ca.crt``), each token Secret ``token-<x>`` at ``/pulsar/token-<x>``.
"""

from __future__ import annotations

import re

from .schema import SpecError, warning

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from collections.abc import Iterable

    from .cluster import Cluster

CERTS_DIR = "/pulsar/certs"
CERT_FILE = f"{CERTS_DIR}/tls.crt"
KEY_FILE = f"{CERTS_DIR}/tls.key"
# Pulsar reads a PEM key only as PKCS#8 (SecurityUtility.loadPrivateKeyFromPemStream); a
# Secret may hold PKCS#1 (cert-manager's default encoding, `openssl genrsa` before 3.0), so our
# API version points Pulsar and BookKeeper at a PKCS#8 copy made at container start. KAAP input
# keeps KAAP's configuration, which reads the Secret's tls.key as it is (docs/tls.md).
PK8_KEY_FILE = "/pulsar/tls-pk8.key"
KEYSTORE = "/pulsar/tls.keystore.jks"
TRUSTSTORE = "/pulsar/tls.truststore.jks"
STORE_PASSWORD_FILE = "/pulsar/keystoreSecret.txt"
SELF_SIGNED_CA = f"{CERTS_DIR}/ca.crt"

TOKEN_PROVIDER = "org.apache.pulsar.broker.authentication.AuthenticationProviderToken"
TLS_PROVIDER = "org.apache.pulsar.broker.authentication.AuthenticationProviderTls"
TOKEN_CLIENT_PLUGIN = "org.apache.pulsar.client.impl.auth.AuthenticationToken"
# The superuser token with its trailing newline removed, for client.conf's authParams
STRIPPED_SUPERUSER_TOKEN = "/pulsar/token-superuser-stripped.jwt"

PK8_STEP = (f"openssl pkcs8 -topk8 -inform PEM -outform PEM -in {KEY_FILE} "
            f"-out {PK8_KEY_FILE} -nocrypt && ")
STRIP_TOKEN_STEP = ("cat /pulsar/token-superuser/superuser.jwt | tr -d '\\n' > "
                    f"{STRIPPED_SUPERUSER_TOKEN} && ")


# --- TLS switches -------------------------------------------------------------------------------


def tls(spec: dict) -> dict:
    return spec["global"]["tls"]


def tls_entry(spec: dict, section: str, set_name: str | None = None) -> dict:
    """The TLS entry of a component, or of one broker/proxy resource set
    (kaap-parity.md#per-set-tls)."""
    entries = tls(spec)
    from .registry import BY_SECTION

    sets_key = BY_SECTION[section].set_tls_key
    if set_name is not None and sets_key:
        per_set = entries[sets_key] or {}
        if set_name in per_set:
            return per_set[set_name]
    return entries[section]


def tls_on(spec: dict, section: str, set_name: str | None = None) -> bool:
    """KAAP decides TLS per component (``global.tls.enabled`` is deprecated there)."""
    return bool(tls_entry(spec, section, set_name).get("enabled"))


def any_tls(spec: dict) -> bool:
    from .registry import TLS_COMPONENTS

    entries = tls(spec)
    return (any(entries[c.tls].get("enabled") for c in TLS_COMPONENTS if c.tls)
            or any((e or {}).get("enabled") for c in TLS_COMPONENTS if c.set_tls_key
                   for e in (entries[c.set_tls_key] or {}).values()))


def secret_name(spec: dict, section: str, set_name: str | None = None) -> str:
    return tls_entry(spec, section, set_name)["secretName"]


def self_signed(spec: dict) -> bool:
    """cert-manager certificates are rendered (KAAP needs the deprecated ``tls.enabled`` too)."""
    entries = tls(spec)
    return bool(entries["enabled"] and entries["certProvisioner"]["selfSigned"]["enabled"])


def ca_path(spec: dict) -> str:
    """Where clients find the CA: the self-signed CA in the mounted Secret, else ``caPath``."""
    return SELF_SIGNED_CA if self_signed(spec) else tls(spec)["caPath"]


# --- volumes ------------------------------------------------------------------------------------


def certs_volume(secret: str) -> tuple[dict, dict]:
    """``(mount, volume)`` of a TLS Secret at /pulsar/certs."""
    return ({"name": "certs", "mountPath": CERTS_DIR, "readOnly": True},
            {"name": "certs", "secret": {"secretName": secret}})


def token_volumes(roles: Iterable[str]) -> tuple[list, list]:
    """``(mounts, volumes)`` of the token Secrets ``token-<role>`` (and ``token-public-key``)
    at ``/pulsar/token-<role>``, read-only. Secrets are referenced, never copied."""
    mounts, volumes = [], []
    for role in roles:
        name = f"token-{role}"
        mounts.append({"name": name, "mountPath": f"/pulsar/{name}", "readOnly": True})
        volumes.append({"name": name, "secret": {"secretName": name}})
    return mounts, volumes


# --- key and trust stores -----------------------------------------------------------------------


def zookeeper_client_options(spec: dict) -> tuple[list, list]:
    """JVM options of a ZooKeeper TLS client, and of a ZooKeeper server (client + quorum)."""
    plain_password = spec["global"]["zookeeperPlainSslStorePassword"]

    def stores(prefix: str) -> list:
        options = [f"{prefix}.keyStore.location={KEYSTORE}"]
        if plain_password:
            options += [f"{prefix}.keyStore.password=$(cat {STORE_PASSWORD_FILE})",
                        f"{prefix}.trustStore.password=$(cat {STORE_PASSWORD_FILE})"]
        else:
            options += [f"{prefix}.keyStore.passwordPath={STORE_PASSWORD_FILE}",
                        f"{prefix}.trustStore.passwordPath={STORE_PASSWORD_FILE}"]
        options += [f"{prefix}.trustStore.location={TRUSTSTORE}",
                    f"{prefix}.hostnameVerification=true"]
        return options

    client = ["zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
              "zookeeper.client.secure=true", *stores("zookeeper.ssl")]
    server = [*client, "zookeeper.sslQuorum=true",
              "zookeeper.serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory",
              *stores("zookeeper.ssl.quorum")]
    return client, server


def keystore_step(spec: dict) -> str:
    """Shell steps that turn the mounted PEM files into the JKS key and trust stores some
    Pulsar parts need (proxy, ZooKeeper clients), with a password made at container start
    (never at render time), and, with ZooKeeper TLS, the ZooKeeper client options appended to
    ``conf/pulsar_env.sh`` and ``conf/bkenv.sh`` (KAAP's certificate converter,
    kaap-parity.md#components).

    The exported ``*Password`` variables are read by apply-config-from-env.py afterwards.
    """
    ca = ca_path(spec)
    steps = [
        f"head -c 32 /dev/urandom | base64 | head -c 24 > {STORE_PASSWORD_FILE}",
        f"export tlsTrustStorePassword=$(cat {STORE_PASSWORD_FILE})",
        f"export PF_tlsTrustStorePassword=$(cat {STORE_PASSWORD_FILE})",
        f"export tlsKeyStorePassword=$(cat {STORE_PASSWORD_FILE})",
        f"export PF_tlsKeyStorePassword=$(cat {STORE_PASSWORD_FILE})",
        f"export PULSAR_PREFIX_brokerClientTlsTrustStorePassword=$(cat {STORE_PASSWORD_FILE})",
        f"openssl pkcs12 -export -in {CERT_FILE} -inkey {KEY_FILE} -out /pulsar/tls.p12 "
        f"-name pulsar -passout file:{STORE_PASSWORD_FILE}",
        f"keytool -importkeystore -srckeystore /pulsar/tls.p12 -srcstoretype PKCS12 "
        f"-srcstorepass:file {STORE_PASSWORD_FILE} -alias pulsar -destkeystore {KEYSTORE} "
        f"-deststorepass:file {STORE_PASSWORD_FILE}",
        f"keytool -import -file {ca} -storetype JKS -alias pulsar -keystore {TRUSTSTORE} "
        f"-storepass:file {STORE_PASSWORD_FILE} -trustcacerts -noprompt",
    ]
    if tls_on(spec, "zookeeper"):
        client, server = zookeeper_client_options(spec)
        server_opts = " ".join(f"-D{o}" for o in server)
        client_opts = " ".join(f"-D{o}" for o in client)
        steps.append(f"printf '\\nPULSAR_EXTRA_OPTS=\"${{PULSAR_EXTRA_OPTS}} %s\"\\n' "
                     f"\"{server_opts}\" >> conf/pulsar_env.sh")
        steps.append(f"printf '\\nBOOKIE_EXTRA_OPTS=\"${{BOOKIE_EXTRA_OPTS}} %s\"\\n' "
                     f"\"{client_opts}\" >> conf/bkenv.sh")
    return " && ".join(steps) + " && "


def key_file(kaap_input: bool) -> str:
    """The private key a Pulsar or BookKeeper process reads: KAAP's ``/pulsar/certs/tls.key``
    for KAAP input, the PKCS#8 copy for ours (PK8_KEY_FILE)."""
    return KEY_FILE if kaap_input else PK8_KEY_FILE


def bookkeeper_client_tls_config(spec: dict, kaap_input: bool = False) -> dict:
    """A broker's BookKeeper client TLS keys (kaap-parity.md#broker)."""
    return {
        "bookkeeperTLSClientAuthentication": "true",
        "bookkeeperTLSKeyFileType": "PEM",
        "bookkeeperTLSKeyFilePath": key_file(kaap_input),
        "bookkeeperTLSCertificateFilePath": CERT_FILE,
        "bookkeeperTLSTrustCertsFilePath": ca_path(spec),
        "bookkeeperTLSTrustCertTypes": "PEM",
        # BookKeeper's v2 wire protocol has no TLS client authentication (apache/bookkeeper#2300)
        "bookkeeperUseV2WireProtocol": "false",
    }


def worker_bookkeeper_tls_properties(spec: dict) -> dict:
    """The functions worker's BookKeeper client TLS settings. WorkerConfig has no
    ``bookkeeperTLS*`` keys: the worker hands every ``properties.bookkeeper_<key>`` to the
    BookKeeper client of its package store as ``<key>`` (WorkerUtils.getDlogConf), so these are
    BookKeeper ClientConfiguration keys, the ones the broker sets from its own
    ``bookkeeperTLS*`` (kaap-parity.md#keys-pulsar-does-not-read). The v2 wire protocol the
    broker has to turn off is already off in this client."""
    return {
        "bookkeeper_tlsProviderFactoryClass": "org.apache.bookkeeper.tls.TLSContextFactory",
        "bookkeeper_tlsClientAuthentication": "true",
        "bookkeeper_tlsKeyStoreType": "PEM",
        "bookkeeper_tlsKeyStore": PK8_KEY_FILE,
        "bookkeeper_tlsCertificatePath": CERT_FILE,
        "bookkeeper_tlsTrustStoreType": "PEM",
        "bookkeeper_tlsTrustStore": ca_path(spec),
    }


# --- token authentication -----------------------------------------------------------------------


def auth_on(spec: dict) -> bool:
    return bool(spec["global"]["auth"]["enabled"])


def token(spec: dict) -> dict:
    return spec["global"]["auth"]["token"]


def public_key_url(spec: dict) -> str:
    return f"file:///pulsar/token-public-key/{token(spec)['publicKeyFile']}"


def roles_csv(roles: Iterable[str]) -> str:
    """Roles as Pulsar's comma list; superUserRoles sorted as KAAP's sorted set."""
    return ",".join(roles)


def server_auth_config(spec: dict, client_token_role: str) -> dict:
    """Broker-style authentication and authorization keys (brokers, proxies, websocket,
    the worker's -extra ConfigMap). The token is read from a file, never written here."""
    conf = token(spec)
    return {
        "authenticationEnabled": "true",
        "authorizationEnabled": "true",
        "authenticationProviders": TOKEN_PROVIDER,
        "tokenPublicKey": public_key_url(spec),
        "superUserRoles": roles_csv(sorted(set(conf["superUserRoles"]))),
        "brokerClientAuthenticationPlugin": TOKEN_CLIENT_PLUGIN,
        "brokerClientAuthenticationParameters":
            f"file:///pulsar/token-{client_token_role}/{client_token_role}.jwt",
    }


def curl_auth_header(spec: dict) -> str:
    """The probe's auth header (KAAP reads the superuser token at probe time)."""
    if not auth_on(spec):
        return ""
    return ("-H \"Authorization: Bearer $(cat /pulsar/token-superuser/superuser.jwt | "
            "tr -d '\\r')\"")


def token_roles(spec: dict) -> list:
    """The roles whose token Secrets the token Job creates: the superuser roles and the proxy
    roles (KAAP creates the superuser roles' only), and the role the PodMonitors authenticate
    with when /metrics needs a token (monitoring.py)."""
    conf = token(spec)
    roles = set(conf["superUserRoles"]) | set(conf["proxyRoles"])
    from . import monitoring

    if monitoring.metrics_token_needed(spec):
        roles.add(monitoring.METRICS_ROLE)  # ours: what the PodMonitors authenticate with
    return sorted(roles)


# --- checks -------------------------------------------------------------------------------------

_ROLE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")


def check(spec: dict, raw: dict | None = None) -> list:
    """Cross-field checks of TLS and token authentication, with field paths."""
    findings = []
    tls_conf = tls(spec)
    broker_tls = bool(tls_conf["broker"]["enabled"])
    proxy_entries = [("spec.global.tls.proxy", tls_conf["proxy"])] + [
        (f"spec.global.tls.proxyResourceSets.{name}", entry)
        for name, entry in (tls_conf["proxyResourceSets"] or {}).items()]
    for path, entry in proxy_entries:
        if entry.get("enabledWithBroker") and not broker_tls:
            findings.append(SpecError(
                f"{path}.enabledWithBroker",
                "proxies would dial the brokers' TLS port, but the brokers have no TLS "
                "(spec.global.tls.broker.enabled is false); turn broker TLS on or drop "
                "enabledWithBroker"))
    for section in ("broker", "proxy"):
        top = bool(tls_conf[section]["enabled"])
        for name, entry in (tls_conf[f"{section}ResourceSets"] or {}).items():
            if bool(entry.get("enabled")) != top:
                findings.append(warning(
                    f"spec.global.tls.{section}ResourceSets.{name}.enabled",
                    f"{section} set {name} has TLS {'on' if entry.get('enabled') else 'off'} "
                    f"but tls.{section} is {'on' if top else 'off'}; the umbrella {section} "
                    f"Service follows tls.{section} and also reaches this set's pods, so some "
                    f"connections through it fail; clients of this set should use its own "
                    f"Service"))
    if tls_conf["enabled"] and not any_tls(spec):
        findings.append(warning(
            "spec.global.tls.enabled",
            "global.tls.enabled turns no component's TLS on by itself (as in KAAP, where it is "
            "deprecated); set tls.<component>.enabled, e.g. tls.broker.enabled: true"))
    if (tls_conf["zookeeper"]["enabled"] and not self_signed(spec)
            and not tls_conf["caPath"].startswith(CERTS_DIR + "/")):
        findings.append(warning(
            "spec.global.tls.caPath",
            f"ZooKeeper TLS clients trust a JKS trust store made with keytool from "
            f"{tls_conf['caPath']}, and keytool imports only the first certificate of a "
            f"bundle; put the CA into the TLS Secrets as ca.crt and set caPath: "
            f"{CERTS_DIR}/ca.crt"))
    if not auth_on(spec):
        return findings
    conf = token(spec)
    for key in ("superUserRoles", "proxyRoles"):
        for index, role in enumerate(conf[key] or []):
            if not isinstance(role, str) or not _ROLE.match(role) or len(role) > 200:
                findings.append(SpecError(
                    f"spec.global.auth.token.{key}[{index}]",
                    f"role {role!r} names the Secret token-{role}; use lower-case letters, "
                    f"digits and '-'"))
    for key in ("publicKeyFile", "privateKeyFile"):
        value = conf[key]
        if not re.fullmatch(r"[-._a-zA-Z0-9]+", value or ""):
            findings.append(SpecError(
                f"spec.global.auth.token.{key}",
                f"{value!r} is a key of a Secret and a file name; use letters, digits, "
                f"'-', '_' and '.'"))
    return findings


def check_roles(cluster: Cluster) -> list:
    """The token roles the pods authenticate with (KAAP's fixed Secrets token-superuser,
    token-proxy, token-websocket) must have the rights they need. Our API version refuses a
    role set that cannot work; KAAP accepts any role set (its migration tool writes custom
    ones, e.g. ``[admin, create-tenant, superuser-backup]``), so KAAP input gets a warning that
    names the consequence (kaap-parity.md#token-roles)."""
    spec = cluster.spec
    if not auth_on(spec):
        return []
    conf = token(spec)
    supers = set(conf["superUserRoles"] or [])
    created = set(token_roles(spec)) if conf["initialize"] else None
    problems = []

    def secret_note(role: str) -> str:
        if created is None or role in created:
            return ""
        return (f"; the token Job creates no Secret token-{role} for a role outside "
                f"superUserRoles and proxyRoles, so the pods mounting it wait until you create it")

    if "superuser" not in supers:
        problems.append((
            "spec.global.auth.token.superUserRoles",
            "brokers, functions workers, probes and the bastion authenticate with the token in "
            "Secret token-superuser; unless its subject is one of superUserRoles, the brokers' "
            "health-check probes and the brokers' and workers' own admin calls are refused "
            "(the brokers never become Ready)" + secret_note("superuser"),
            "add 'superuser'"))
    proxies = any(rset.spec["replicas"] > 0 for rset in _proxy_sets(cluster))
    if proxies and "proxy" not in set(conf["proxyRoles"] or []):
        problems.append((
            "spec.global.auth.token.proxyRoles",
            "proxies authenticate to the brokers with the token in Secret token-proxy; unless "
            "its subject is one of proxyRoles, the brokers refuse the clients' connections "
            "that the proxies forward on their behalf" + secret_note("proxy"),
            "add 'proxy'"))
    if proxies and spec["proxy"]["webSocket"]["enabled"] and "websocket" not in supers:
        problems.append((
            "spec.global.auth.token.superUserRoles",
            "the websocket proxy authenticates to the brokers with the token in Secret "
            "token-websocket; unless its subject is one of superUserRoles, the brokers refuse "
            "what websocket clients produce and consume" + secret_note("websocket"),
            "add 'websocket' or turn proxy.webSocket off"))
    if cluster.kaap_input:
        return [warning(path, f"{consequence} (KAAP accepts this role set as well); "
                              f"{fix} if that is not intended")
                for path, consequence, fix in problems]
    return [SpecError(path, f"{consequence}; {fix}") for path, consequence, fix in problems]


def _proxy_sets(cluster: Cluster) -> list:
    from . import placement

    return placement.resource_sets(cluster, "proxy")
