"""Every configuration key we write is one its Pulsar component reads (issue 16, point 5).

Pulsar ignores a key it does not know, so a misspelt or misplaced key is silently a default.
For every fixture (Oxia and TLS included) every key our output writes for a component is looked
up in that component's configuration class of the version under test, read from the cached
jars (config_keys.py). Oxia's own server takes command-line flags, not a Pulsar configuration
file: what we configure of Oxia in Pulsar (the brokers' metadata store URLs) is checked here
like every other broker key.
"""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

import config_keys
from .conftest import ROOT, render

pytestmark = pytest.mark.pulsar

FIXTURE_FILES = sorted(p for p in (ROOT / "fixtures").glob("*.yaml")
                       if any((doc or {}).get("kind") == "PulsarCluster"
                              for doc in yaml.safe_load_all(p.read_text())))

# Keys KAAP writes that its component does not read in Pulsar 4.0.8. KAAP input keeps them, so
# a cluster taken over from KAAP keeps KAAP's ConfigMaps; nothing reads them, so they change
# nothing. Our API version writes none of them (it writes the key the component does read, or
# nothing). docs/kaap-parity.md#keys-pulsar-does-not-read has each decision.
KAAP_KEPT = {
    ("proxy", "numHttpServerThreads"):
        "ProxyConfiguration calls it httpNumThreads (ours writes that)",
    ("proxy", "brokerServicePortTls"):
        "the broker's name; the proxy opens servicePortTls, which KAAP writes too",
    ("websocket", "zookeeperServers"):
        "WebSocketProxyConfiguration has only the configuration store",
    ("broker", "pulsarFunctionsCluster"):
        "functions_worker.yml keys in broker.conf; the embedded worker takes the cluster name "
        "from the broker",
    ("broker", "pulsarServiceUrl"): "the embedded worker takes its broker's URLs itself",
    ("broker", "pulsarWebServiceUrl"): "as above",
    ("functions-worker", "zookeeperServers"): "WorkerConfig reads configurationStoreServers",
    ("functions-worker", "bookkeeperTLSClientAuthentication"):
        "a broker key; KAAP's worker reaches the bookies without TLS",
    ("bookie", "bookkeeperTLSClientAuthentication"):
        "the broker's name; a bookie reads tlsClientAuthentication, so KAAP's bookies accept "
        "clients without certificates",
    ("bookie", "bookkeeperTLSTrustCertsFilePath"): "the broker's name (tlsTrustStore)",
    ("shell", "bookkeeperTLSClientAuthentication"): "the bookie's init container, as above",
    ("shell", "bookkeeperTLSTrustCertsFilePath"): "the bookie's init container, as above",
}


def kaap_input(fixture: str) -> bool:
    return any((doc or {}).get("apiVersion") == "kaap.oss.datastax.com/v1beta1"
               for doc in yaml.safe_load_all((ROOT / "fixtures" / fixture).read_text()))


@pytest.fixture(scope="module")
def known(pulsar_jars, tmp_path_factory):
    return config_keys.KnownKeys(pulsar_jars, tmp_path_factory.mktemp("config-keys"))


@pytest.fixture(scope="module")
def rendered() -> dict:
    """fixture path -> our output, rendered once for the module."""
    return {path: render(path) for path in FIXTURE_FILES}


@pytest.fixture(scope="module")
def unread(known, rendered) -> dict:
    """fixture name -> {(program, key): (where, why)} for every key not read."""
    found = {}
    for path in FIXTURE_FILES:
        found[path.name] = {}
        for written in config_keys.written_keys(rendered[path]):
            why = known.missing(written)
            if why:
                found[path.name].setdefault((written.program, written.key),
                                            (written.where, why))
    return found


@pytest.mark.parametrize("fixture", [p.name for p in FIXTURE_FILES])
def test_every_written_key_is_read(unread, fixture):
    """Every key is read; KAAP input may keep the keys of KAAP_KEPT, our API version none."""
    allowed = KAAP_KEPT if kaap_input(fixture) else {}
    new = {k: v for k, v in unread[fixture].items() if k not in allowed}
    assert not new, "keys Pulsar 4.0.8 does not read:\n" + "\n".join(
        f"  {program} {key}: {why} ({where})" for (program, key), (where, why) in new.items())


@pytest.mark.parametrize("program,key", sorted(KAAP_KEPT),
                         ids=[f"{p}:{k}" for p, k in sorted(KAAP_KEPT)])
def test_kaap_kept_key_is_written_for_kaap_input_only(unread, program, key):
    """Each kept key is one KAAP input really writes (a KAAP fixture shows it), still unread
    (else it would need no exception), and never written for our API version."""
    where = {fixture: found[(program, key)][0] for fixture, found in unread.items()
             if (program, key) in found}
    assert any(kaap_input(fixture) for fixture in where), \
        f"no KAAP fixture writes {program} {key}: drop it from KAAP_KEPT"
    ours = [f"{fixture}: {place}" for fixture, place in where.items() if not kaap_input(fixture)]
    assert not ours, f"our API version writes {program} {key}, which is not read:\n  " + \
        "\n  ".join(ours)


def test_the_check_reports_a_misspelt_key(known):
    """The check can fail: a broker key with one letter wrong is reported, the right one not."""
    manifests = render(ROOT / "fixtures" / "minimal.yaml")
    broker = next(m for m in manifests if m["kind"] == "ConfigMap"
                  and m["metadata"]["name"].endswith("broker"))
    broker["data"]["PULSAR_PREFIX_managedLedgerDefaultEnsembleSise"] = "1"
    broker["data"]["PULSAR_PREFIX_managedLedgerDefaultEnsembleSize"] = "1"
    reported = {w.key for w in config_keys.written_keys(manifests) if known.missing(w)}
    assert "managedLedgerDefaultEnsembleSise" in reported
    assert "managedLedgerDefaultEnsembleSize" not in reported


def test_oxia_and_tls_configuration_is_checked(known):
    """The Oxia and TLS fixtures' metadata-store and TLS keys are among the keys checked."""
    oxia = {(w.program, w.key) for w in config_keys.written_keys(
        render(ROOT / "fixtures" / "full-oxia.yaml"))}
    assert ("broker", "metadataStoreUrl") in oxia
    tls = {(w.program, w.key) for w in config_keys.written_keys(
        render(ROOT / "fixtures" / "tls-cert-manager.yaml"))}
    assert ("broker", "tlsCertificateFilePath") in tls
    assert all(not known.missing(config_keys.WrittenKey(p, k, "")) for p, k in
               [("broker", "metadataStoreUrl"), ("broker", "tlsCertificateFilePath")])


def test_the_check_reports_a_misspelt_worker_property(known):
    """The check reads the worker's `properties:` too: a BookKeeper client key with one letter
    wrong is reported, the right one and the token key are not."""
    manifests = render(ROOT / "fixtures" / "tls-existing-secrets.yaml")
    worker = next(m for m in manifests if m["kind"] == "ConfigMap"
                  and "functions_worker.yml" in (m.get("data") or {}))
    conf = yaml.safe_load(worker["data"]["functions_worker.yml"])
    assert conf["properties"]["bookkeeper_tlsClientAuthentication"] == "true"
    conf["properties"]["bookkeeper_tlsClientAuthentcation"] = "true"
    conf["properties"]["tokenPublicKey"] = "file:///pulsar/token-public-key/my-public.key"
    worker["data"]["functions_worker.yml"] = yaml.safe_dump(conf)
    reported = {w.key for w in config_keys.written_keys(manifests) if known.missing(w)}
    assert "properties.bookkeeper_tlsClientAuthentcation" in reported
    assert "properties.bookkeeper_tlsClientAuthentication" not in reported
    assert "properties.tokenPublicKey" not in reported


# functions_worker.yml numbers KAAP's YAML writes as integers (issue 13, item 5)
WORKER_INTEGERS = ("workerPort", "numHttpServerThreads", "zooKeeperSessionTimeoutMillis",
                   "failureCheckFreqMs", "rescheduleTimeoutMs", "initialBrokerReconnectMaxRetries",
                   "assignmentWriteMaxRetries", "instanceLivenessCheckFreqMs",
                   "topicCompactionFrequencySec", "numFunctionPackageReplicas")


def _loaded_as_written(written, loaded: dict) -> bool:
    """Whether WorkerConfig's field (type and value after WorkerConfig.load) holds what the
    YAML says; Jackson turns "6750" into 6750 and "true" into true for typed fields."""
    kind, value = loaded["type"], loaded.get("value")
    if kind in ("java.lang.Integer", "java.lang.Long", "java.lang.Double"):
        return float(written) == float(value)
    if kind == "java.lang.Boolean":
        return (written in (True, "true")) == value
    if kind == "java.lang.String":
        return str(written) == value
    if isinstance(written, list):
        return sorted(map(str, written)) == sorted(map(str, value))
    if kind == "java.util.Properties":
        return {k: str(v) for k, v in written.items()} == value
    return value is not None   # a nested settings object (functionRuntimeFactoryConfigs, ...)


def test_the_functions_worker_parses_what_we_write(pulsar_jars, rendered, tmp_path):
    """Every functions_worker.yml we write (each fixture with a worker) loads into Pulsar's
    WorkerConfig the way the worker loads it (Jackson), every key lands in its field with the
    value written, and KAAP's numbers are integers in the YAML, as KAAP writes them."""
    classpath = (pulsar_jars / "classpath.txt").read_text().strip()
    subprocess.run(["javac", "-d", str(tmp_path), "-cp", classpath,
                    str(ROOT / "tests" / "pulsar" / "java" / "WorkerConfigLoad.java")],
                   check=True, capture_output=True)
    files, written = [], {}
    for path in FIXTURE_FILES:
        for obj in rendered[path]:
            data = obj.get("data") or {}
            if obj["kind"] == "ConfigMap" and "functions_worker.yml" in data:
                target = tmp_path / f"{path.stem}.yml"
                target.write_text(data["functions_worker.yml"])
                files.append(str(target))
                written[str(target)] = yaml.safe_load(data["functions_worker.yml"])
    assert len(files) >= 4, files   # ours (plain, TLS) and KAAP input (plain, TLS)
    # Jackson's coercion, shown once: a quoted number still loads into an int field
    quoted = tmp_path / "quoted.yml"
    quoted.write_text('workerPort: "6750"\n')
    files.append(str(quoted))
    written[str(quoted)] = {"workerPort": "6750"}
    out = subprocess.run(["java", "-cp", f"{tmp_path}:{classpath}", "WorkerConfigLoad", *files],
                         check=True, capture_output=True, text=True).stdout
    loaded = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    by_file: dict = {}
    for line in loaded:
        by_file.setdefault(line["file"], {})[line["key"]] = line
    assert by_file[str(quoted)]["workerPort"] == {
        "file": str(quoted), "key": "workerPort", "type": "java.lang.Integer", "value": 6750}
    wrong = []
    for path, conf in written.items():
        assert set(by_file[path]) == set(conf), path
        for key, value in conf.items():
            line = by_file[path][key]
            if line["type"] == "none":
                continue   # not a WorkerConfig key: test_every_written_key_is_read decides
            if not _loaded_as_written(value, line):
                wrong.append(f"{path}: {key}: wrote {value!r}, WorkerConfig has {line}")
        if path != str(quoted):
            wrong += [f"{path}: {key} is {conf[key]!r}, not an integer"
                      for key in WORKER_INTEGERS if key in conf and type(conf[key]) is not int]
    assert not wrong, "\n".join(wrong)


def _loaded(pulsar_jars, tmp_path, java_class: str, config_map: dict) -> dict:
    """key -> the field as Pulsar's configuration class holds it after loading a properties
    file of this ConfigMap's PULSAR_PREFIX_ keys (values as written, blanks included) with
    PulsarConfigurationLoader, as the broker and proxy starters load theirs."""
    classpath = (pulsar_jars / "classpath.txt").read_text().strip()
    subprocess.run(["javac", "-d", str(tmp_path), "-cp", classpath,
                    str(ROOT / "tests" / "pulsar" / "java" / "ConfigLoad.java")],
                   check=True, capture_output=True)
    conf = tmp_path / f"{java_class.rsplit('.', 1)[1]}.conf"
    conf.write_text("".join(f"{key[len('PULSAR_PREFIX_'):]}={value}\n"
                            for key, value in config_map.items()
                            if key.startswith("PULSAR_PREFIX_")))
    out = subprocess.run(["java", "-cp", f"{tmp_path}:{classpath}", "ConfigLoad", java_class,
                          str(conf)], check=True, capture_output=True, text=True).stdout
    return {line["key"]: line for line in map(json.loads, out.splitlines())
            if line.get("file") == str(conf)}


def _config_map(manifests: list, name: str) -> dict:
    return next(m["data"] for m in manifests
                if m["kind"] == "ConfigMap" and m["metadata"]["name"] == name)


@pytest.mark.parametrize("fixture", ["tls-existing-secrets.yaml",
                                     "kaap-style-tls-self-signed.yaml"])
def test_the_proxy_configuration_opens_the_tls_ports(pulsar_jars, rendered, tmp_path, fixture):
    """ProxyConfiguration, loaded from our proxy ConfigMap, has the TLS ports the proxy opens
    (ProxyService binds servicePortTls and webServicePortTls when they are present): our API
    version and KAAP input both write `servicePortTls`; the `brokerServicePortTls` KAAP writes
    too is no ProxyConfiguration key. Our API version sets the proxy's HTTP threads under the
    proxy's key."""
    manifests = rendered[ROOT / "fixtures" / fixture]
    proxy = _loaded(pulsar_jars, tmp_path, "org.apache.pulsar.proxy.server.ProxyConfiguration",
                    _config_map(manifests, "pulsar-proxy"))
    assert proxy["servicePortTls"]["value"] == "6651"
    assert proxy["webServicePortTls"]["value"] == "8443"
    if kaap_input(fixture):
        assert proxy["brokerServicePortTls"]["type"] == "none"
        assert proxy["numHttpServerThreads"]["type"] == "none"   # KAAP's, unread
        assert proxy["tlsKeyFilePath"]["value"] == "/pulsar/certs/tls.key"
    else:
        assert "brokerServicePortTls" not in proxy
        assert proxy["httpNumThreads"] == {**proxy["httpNumThreads"], "type": "java.lang.Integer",
                                           "value": "10"}
        assert proxy["tlsKeyFilePath"]["value"] == "/pulsar/tls-pk8.key"


def test_the_brokers_key_path_of_kaap_input_loads_without_its_blank(pulsar_jars, rendered,
                                                                     tmp_path):
    """KAAP writes the broker's tlsKeyFilePath with a leading blank; KAAP input keeps KAAP's
    value, which ServiceConfiguration loads as the plain path (Java's properties format drops
    blanks after the separator)."""
    broker_map = _config_map(rendered[ROOT / "fixtures" / "kaap-style-tls-self-signed.yaml"],
                             "pulsar-broker")
    assert broker_map["PULSAR_PREFIX_tlsKeyFilePath"] == " /pulsar/certs/tls.key"
    broker = _loaded(pulsar_jars, tmp_path, "org.apache.pulsar.broker.ServiceConfiguration",
                     broker_map)
    assert broker["tlsKeyFilePath"]["value"] == "/pulsar/certs/tls.key"
    assert broker["bookkeeperTLSKeyFilePath"]["value"] == "/pulsar/certs/tls.key"


def test_pulsar_reads_pkcs8_keys(pulsar_jars, tmp_path):
    """Why our API version points Pulsar at a PKCS#8 copy of the key, and our Certificates ask
    for PKCS#8 (docs/tls.md): Pulsar's key loader decodes the PEM body as PKCS#8. An ECDSA key
    in cert-manager's default encoding (PKCS#1, for ECDSA the "BEGIN EC PRIVATE KEY" form)
    fails; after the container's conversion step it loads. (An RSA "BEGIN RSA PRIVATE KEY" key
    loads or not depending on which security provider the JVM picked first, so it is not
    relied on.)"""
    classpath = (pulsar_jars / "classpath.txt").read_text().strip()
    subprocess.run(["javac", "-d", str(tmp_path), "-cp", classpath,
                    str(ROOT / "tests" / "pulsar" / "java" / "KeyLoad.java")],
                   check=True, capture_output=True)
    sec1, ec8 = tmp_path / "ec-pkcs1.key", tmp_path / "ec-pkcs8.key"
    rsa8 = tmp_path / "rsa-pkcs8.key"
    subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out",
                    str(sec1)], check=True, capture_output=True)
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-out", str(rsa8)],
                   check=True, capture_output=True)
    # the container's conversion step (security.PK8_STEP)
    subprocess.run(["openssl", "pkcs8", "-topk8", "-inform", "PEM", "-outform", "PEM", "-in",
                    str(sec1), "-out", str(ec8), "-nocrypt"], check=True, capture_output=True)
    assert sec1.read_text().startswith("-----BEGIN EC PRIVATE KEY-----")
    out = subprocess.run(["java", "-cp", f"{tmp_path}:{classpath}", "KeyLoad", str(sec1),
                          str(ec8), str(rsa8)], check=True, capture_output=True, text=True).stdout
    results = dict(line.split(" ", 1) for line in out.splitlines() if line.startswith("/"))
    assert results[str(ec8)] == "ok", results
    assert results[str(rsa8)] == "ok", results
    assert results[str(sec1)].startswith("error"), results
