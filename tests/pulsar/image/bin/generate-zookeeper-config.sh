#!/usr/bin/env bash
# The image's bin/generate-zookeeper-config.sh, rewritten for the `pulsar` test harness:
# append `server.<n>=<name>.<domain>:2888:3888` for each name of ZOOKEEPER_SERVERS (n from 1),
# <domain> being this host's DNS domain; the name equal to $HOSTNAME is this server, whose id
# goes to <dataDir>/myid unless that file exists.
conf=$1
domain=$(hostname -d)
index=1
for server in ${ZOOKEEPER_SERVERS//,/ }; do
  echo "server.$index=$server.$domain:2888:3888" >> "$conf"
  if [ "$HOSTNAME" == "$server" ]; then
    my_id=$index
    echo "Current server id $my_id"
  fi
  index=$((index + 1))
done
if [ -n "$my_id" ]; then
  data_dir=$(grep '^dataDir=' "$conf" | awk -F= '{print $2}')
  if [ ! -e "$data_dir/myid" ]; then
    echo "Creating $data_dir/myid with id = $my_id"
    mkdir -p "$data_dir"
    echo "$my_id" > "$data_dir/myid"
  fi
fi
