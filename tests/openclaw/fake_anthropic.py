#!/usr/bin/env python3
"""Loopback-only fake of the Anthropic Messages API for the OpenClaw fixture harness.

Usage: fake_anthropic.py --log FILE [--port N] [--dump-dir DIR]

Binds 127.0.0.1 (port 0 = any free port) and prints the chosen port as the first line of
stdout. Every POST .../messages is answered deterministically; request number n (1-based, in
arrival order, counting every answered messages request) gets:

  id              msg_fake_<n:04d>
  input_tokens    1000 + n
  output_tokens   50 + n         (message_start says 1, message_delta the final value)
  cache_read      200 * n
  cache_creation  10 * n, of which ephemeral_1h 3 * n and ephemeral_5m 7 * n

The answer text is at least 12 KB long when this turn's user messages (those after the last
assistant message) contain LONGANSWER, "HEARTBEAT_OK" when they contain HEARTBEAT, and
"Fake answer <n>: acknowledged." otherwise. With "stream": true (what OpenClaw sends) the
answer is the SSE event sequence message_start (full usage, output_tokens 1),
content_block_start, ping, content_block_delta (2 KB chunks), content_block_stop,
message_delta (stop_reason end_turn; input, cache and final output tokens), message_stop;
otherwise one JSON message.

One JSON line per answered request is appended to the log (flushed at once): n, id, model,
stream, probe, usage, max_tokens, the number of messages and tools, the first user text of
the request and this turn's prompt (turn_user_text; both clipped; OpenClaw prefixes the
prompt with a time stamp), heartbeat/long flags, the answer's length, the request's
metadata and its headers (less the credentials). A request is a "probe" when it has no
tools and max_tokens <= 16, or its only message is a one-word user text: a connectivity
check rather than an agent turn (openclaw 2026.9.6 sent none in `agent --local`). Other
requests (count_tokens, GET, unknown paths) get small fixed bodies and are logged with their
"kind". --dump-dir writes each messages request body as <n>.json (for debugging).
"""
import argparse
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LONG_MIN_BYTES = 12 * 1024
CLIP = 400

lock = threading.Lock()
state = {"n": 0, "other": 0}
args = None


def text_of(content):
    """The text of a message's content (a string or a list of blocks), blocks joined by \\n."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, dict):
                if block.get("type") == "text" and isinstance(block.get("text"), str):
                    parts.append(block["text"])
                elif block.get("type") == "tool_result":
                    parts.append(text_of(block.get("content")))
        return "\n".join(p for p in parts if p)
    return ""


def user_texts(body):
    out = []
    for m in body.get("messages") or []:
        if isinstance(m, dict) and m.get("role") == "user":
            out.append(text_of(m.get("content")))
    return out


def turn_texts(body):
    """The texts of the user messages after the last assistant message: this turn's prompt
    (OpenClaw prefixes it with a "[Tue 2026-12-01 20:23 UTC] " time stamp) followed by the
    internal context block it appends as a second user message."""
    out = []
    for m in body.get("messages") or []:
        if not isinstance(m, dict):
            continue
        if m.get("role") == "assistant":
            out = []
        elif m.get("role") == "user":
            out.append(text_of(m.get("content")))
    return out


def usage_for(n):
    return {
        "input_tokens": 1000 + n,
        "output_tokens": 50 + n,
        "cache_read_input_tokens": 200 * n,
        "cache_creation_input_tokens": 10 * n,
        "cache_creation": {"ephemeral_5m_input_tokens": 7 * n, "ephemeral_1h_input_tokens": 3 * n},
    }


def long_text(n):
    lines = []
    i = 0
    size = 0
    while size < LONG_MIN_BYTES:
        i += 1
        line = f"Line {i:04d} of the long answer {n}: the quick brown fox jumps over the lazy dog.\n"
        lines.append(line)
        size += len(line.encode())
    return "".join(lines)


def answer_text(n, turn_text):
    if "LONGANSWER" in turn_text:
        return long_text(n)
    if "HEARTBEAT" in turn_text:
        return "HEARTBEAT_OK"
    return f"Fake answer {n}: acknowledged."


def is_probe(body, texts):
    if body.get("tools"):
        return False
    max_tokens = body.get("max_tokens")
    if isinstance(max_tokens, int) and max_tokens <= 16:
        return True
    msgs = body.get("messages") or []
    return len(msgs) == 1 and len(texts) == 1 and len(texts[0].split()) <= 1


def sse(event, data):
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def clip(s):
    return s if len(s) <= CLIP else s[:CLIP] + f"…[{len(s)} chars]"


def log_line(record):
    with open(args.log, "a", encoding="utf-8") as f:
        f.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        f.flush()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-anthropic/1"

    def log_message(self, fmt, *a):  # quiet: the JSON log is the record
        pass

    def send_body(self, status, ctype, data):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("request-id", "req_fake")
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def other(self, kind, status, payload, body=None):
        with lock:
            state["other"] += 1
            log_line({"kind": kind, "method": self.command, "path": self.path, "status": status,
                      "model": (body or {}).get("model")})
        self.send_body(status, "application/json", json.dumps(payload).encode())

    def do_GET(self):
        self.other("get", 404, {"type": "error", "error": {"type": "not_found_error", "message": "fake: no such route"}})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        path = self.path.split("?", 1)[0]
        if path.endswith("/count_tokens"):
            self.other("count_tokens", 200, {"input_tokens": 1000}, body)
            return
        if not path.endswith("/messages"):
            self.other("unknown", 404, {"type": "error", "error": {"type": "not_found_error", "message": "fake: no such route"}}, body)
            return

        texts = user_texts(body)
        turn = turn_texts(body)
        turn_text = "\n".join(turn)
        with lock:
            state["n"] += 1
            n = state["n"]
        if args.dump_dir:
            with open(os.path.join(args.dump_dir, f"{n:04d}.json"), "wb") as f:
                f.write(raw)
        msg_id = f"msg_fake_{n:04d}"
        model = body.get("model") or "claude-fake"
        usage = usage_for(n)
        text = answer_text(n, turn_text)
        stream = bool(body.get("stream"))
        meta = body.get("metadata")
        log_line({
            "kind": "messages",
            "n": n,
            "id": msg_id,
            "model": model,
            "stream": stream,
            "probe": is_probe(body, texts),
            "usage": usage,
            "max_tokens": body.get("max_tokens"),
            "messages": len(body.get("messages") or []),
            "tools": len(body.get("tools") or []),
            "first_user_text": clip(texts[0]) if texts else None,
            "turn_user_text": clip(turn[0]) if turn else None,
            "answer_chars": len(text),
            "heartbeat": "HEARTBEAT" in turn_text,
            "long": "LONGANSWER" in turn_text,
            "metadata": meta if isinstance(meta, dict) else None,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()
                        if k.lower() not in ("x-api-key", "authorization", "content-length")},
        })

        if not stream:
            payload = {
                "id": msg_id, "type": "message", "role": "assistant", "model": model,
                "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn", "stop_sequence": None, "usage": usage,
            }
            self.send_body(200, "application/json", json.dumps(payload).encode())
            return

        start_usage = dict(usage, output_tokens=1)
        out = bytearray()
        out += sse("message_start", {"type": "message_start", "message": {
            "id": msg_id, "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": start_usage}})
        out += sse("content_block_start", {"type": "content_block_start", "index": 0,
                                           "content_block": {"type": "text", "text": ""}})
        out += sse("ping", {"type": "ping"})
        chunk = 2048
        for i in range(0, len(text), chunk):
            out += sse("content_block_delta", {"type": "content_block_delta", "index": 0,
                                               "delta": {"type": "text_delta", "text": text[i:i + chunk]}})
        out += sse("content_block_stop", {"type": "content_block_stop", "index": 0})
        delta_usage = {k: usage[k] for k in ("input_tokens", "cache_creation_input_tokens",
                                             "cache_read_input_tokens", "output_tokens")}
        out += sse("message_delta", {"type": "message_delta",
                                     "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                     "usage": delta_usage})
        out += sse("message_stop", {"type": "message_stop"})
        self.send_body(200, "text/event-stream", bytes(out))


def main():
    global args
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--log", required=True)
    p.add_argument("--dump-dir")
    args = p.parse_args()
    if args.dump_dir:
        os.makedirs(args.dump_dir, exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
