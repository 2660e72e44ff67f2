"""Produce and consume one message over Pulsar's WebSocket API (run inside a pod by the tests).

Usage: ws_roundtrip.py WS_BASE_URL TOPIC MESSAGE, e.g. ws://pulsar-proxy:8000 persistent/public/default/t
hello. The consumer subscribes first, the producer sends, the consumer receives and acks;
prints the received payload and exits 0, or a one-line error and exits 1.
"""
import base64
import json
import sys

import websocket


def main() -> int:
    base, topic, message = sys.argv[1:4]
    try:
        consumer = websocket.create_connection(
            f"{base}/ws/v2/consumer/{topic}/ws-sub", timeout=30)
        producer = websocket.create_connection(f"{base}/ws/v2/producer/{topic}", timeout=30)
        producer.send(json.dumps({"payload": base64.b64encode(message.encode()).decode()}))
        receipt = json.loads(producer.recv())
        if receipt.get("result") != "ok":
            print(f"produce failed: {receipt}")
            return 1
        received = json.loads(consumer.recv())
        consumer.send(json.dumps({"messageId": received["messageId"]}))
        print(base64.b64decode(received["payload"]).decode())
        producer.close()
        consumer.close()
        return 0
    except Exception as error:   # the test prints what went wrong, one line
        print(f"{type(error).__name__}: {error}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
