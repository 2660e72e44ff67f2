#!/usr/bin/env bash
# The image's bin/pulsar-zookeeper-ruok.sh, rewritten for the `pulsar` test harness: send the
# four-letter word `ruok` to 127.0.0.1:2181 and succeed on `imok`. The image pipes through nc;
# bash's /dev/tcp does the same here without installing netcat.
exec 3<>/dev/tcp/127.0.0.1/2181 || { echo "ZK server is not ok"; exit 1; }
printf ruok >&3
status=$(timeout 5 cat <&3)
exec 3<&-
if [ "$status" == "imok" ]; then
  exit 0
fi
echo "ZK server is not ok"
exit 1
