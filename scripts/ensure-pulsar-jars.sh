#!/usr/bin/env bash
# Print the folder holding the Pulsar server jars the `pulsar` tests run (tests/pulsar): a
# version-keyed cache, ${KRM_PULSAR_TOOLS:-./tools}/pulsar-<version>/, with
#   m2/             Maven's local repository (every jar, as Maven lays it out)
#   settings.xml    one mirror of `*`: Pulsar's POMs name a second repository that is not
#                   reachable here, so every request goes to Maven's own default repository
#   classpath.txt   the servers' classpath (pulsar-broker, -proxy, -websocket, -functions-worker,
#                   -client-tools and what they bring, ZooKeeper's Prometheus metrics provider)
#   instances/java-instance.jar   the Java function instance, as the image ships it
#   examples/api-examples.jar     Pulsar's example functions, as the image ships them
# Resolution runs once; later calls find `.complete` and print the folder at once.
set -euo pipefail
cd "$(dirname "$0")/.."
pom="$PWD/tests/pulsar/pom.xml"
version=$(sed -n 's:.*<pulsar.version>\(.*\)</pulsar.version>.*:\1:p' "$pom")
cache="${KRM_PULSAR_TOOLS:-$PWD/tools}/pulsar-$version"

# The marker holds the pom's hash: a changed dependency list resolves again.
stamp=$(sha256sum "$pom" | cut -d' ' -f1)
if [ -f "$cache/.complete" ] && [ "$(cat "$cache/.complete")" = "$stamp" ] &&
   [ -f "$cache/classpath.txt" ] && [ -f "$cache/instances/java-instance.jar" ] && [ -f "$cache/examples/api-examples.jar" ]; then
  echo "$cache"; exit 0
fi
for tool in mvn java javac; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "ensure-pulsar-jars: $tool is required to resolve Pulsar $version" >&2
    exit 1
  fi
done
mkdir -p "$cache"

# The repository Maven itself defaults to (its super POM's `central`), so this script names
# no host of its own.
maven_home=$(mvn -v 2>/dev/null | sed -n 's/^Maven home: //p')
central=$(python3 - "$maven_home" <<'PY'
import glob, re, sys, zipfile
for jar in glob.glob(sys.argv[1] + "/lib/maven-model-builder*.jar"):
    pom = zipfile.ZipFile(jar).read("org/apache/maven/model/pom-4.0.0.xml").decode()
    print(re.search(r"<id>central</id>.*?<url>([^<]+)</url>", pom, re.S).group(1))
    break
PY
)
if [ -z "$central" ]; then
  echo "ensure-pulsar-jars: cannot read Maven's default repository from $maven_home" >&2
  exit 1
fi
cat > "$cache/settings.xml" <<XML
<settings>
  <localRepository>$cache/m2</localRepository>
  <mirrors>
    <mirror>
      <id>central-for-everything</id>
      <mirrorOf>*</mirrorOf>
      <url>$central</url>
    </mirror>
  </mirrors>
</settings>
XML

echo "ensure-pulsar-jars: resolving Pulsar $version into $cache (a cold cache takes minutes)" >&2
start=$(date +%s)
mvn --batch-mode --no-transfer-progress --quiet -Dstyle.color=never -s "$cache/settings.xml" \
  -Dmaven.repo.local="$cache/m2" -Dcache.dir="$cache" -f "$pom" validate >&2
jars=$(tr ':' '\n' < "$cache/classpath.txt" | grep -c '\.jar$')
size=$(du -sh "$cache/m2" | cut -f1)
echo "ensure-pulsar-jars: $jars server jars, $size in $cache/m2, $(( $(date +%s) - start )) s" >&2
echo "$stamp" > "$cache/.complete"
echo "$cache"
