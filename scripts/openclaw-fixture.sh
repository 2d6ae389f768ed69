#!/usr/bin/env bash
# Makes the real, published OpenClaw (openclaw@2026.9.6, installed by ensure-openclaw.sh) write
# a state directory offline, against the loopback fake of the Anthropic Messages API in
# tests/openclaw/fake_anthropic.py, and writes what an importer must find in it.
#
#   scripts/openclaw-fixture.sh OUTDIR
#
# OUTDIR/state          the OpenClaw state directory (OPENCLAW_STATE_DIR), made fresh
# OUTDIR/expected.json  the assistant calls that carry usage, read back from
#                       state/agents/main/agent/openclaw-agent.sqlite and cross-checked
#                       against the fake's log (the script fails if they disagree)
# OUTDIR/fake-log.jsonl one line per request the fake answered
# OUTDIR/logs/          each command's stdout/stderr, turns.jsonl (one line per turn)
#
# Turns, each `openclaw agent --local`, each bounded by OPENCLAW_TURN_TIMEOUT (120 s):
#   main-1, main-2        two ordinary turns in agent:main:main
#   main-heartbeat        a turn in agent:main:main whose message starts with HEARTBEAT
#   subagent              --session-key agent:main:subagent:<fixed uuid>
#   cron                  --session-key agent:main:cron:nightly:run:<fixed id>
#   heartbeat-key         --session-key agent:main:main:heartbeat (recorded even if refused)
#   long                  a LONGANSWER turn in agent:main:main (the fake answers >= 12 KB,
#                         which OpenClaw stores zstd-compressed)
# OpenClaw runs with a scrubbed environment (env -i): HOME=OUTDIR/home, TZ=UTC, a fake
# ANTHROPIC_API_KEY, and models.providers.anthropic.baseUrl pointing at the fake.
# Needs python3 (3.8+, with sqlite3) and a zstd decompressor (the zstandard module or the
# zstd CLI; Debian's zstd is installed with apt-get when neither is there).
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$1"
out="$(cd "$1" && pwd)"
TURN_TIMEOUT="${OPENCLAW_TURN_TIMEOUT:-120}"
MODEL="${OPENCLAW_FIXTURE_MODEL:-anthropic/claude-sonnet-4-6}"
SUBAGENT_KEY="agent:main:subagent:7d1f3c2a-5b4e-4c6d-8e9f-0a1b2c3d4e5f"
CRON_KEY="agent:main:cron:nightly:run:fixture-run-0001"
HEARTBEAT_KEY="agent:main:main:heartbeat"
SECONDS=0

die() {
  echo "openclaw-fixture: $*" >&2
  exit 1
}
step() { echo "openclaw-fixture: [$(printf '%3d' "$SECONDS")s] $*" >&2; }

command -v python3 >/dev/null || die "python3 is required"
command -v timeout >/dev/null || die "timeout (coreutils) is required"

# --- a zstd decompressor for the compressed transcript events ---------------------------
if python3 -c "import zstandard" 2>/dev/null; then
  zstd_mode=python
elif command -v zstd >/dev/null; then
  zstd_mode=cli
else
  step "installing a zstd decompressor"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if command -v apt-get >/dev/null &&
    { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends zstd; } >/dev/null 2>&1 &&
    command -v zstd >/dev/null; then
    zstd_mode=cli
  elif python3 -m pip install -q zstandard >/dev/null 2>&1 && python3 -c "import zstandard" 2>/dev/null; then
    zstd_mode=python
  else
    die "no zstd decompressor: apt-get install zstd and pip install zstandard both failed"
  fi
fi

# --- OpenClaw ------------------------------------------------------------------------
step "ensuring openclaw"
oc_home="$(bash "$root/scripts/ensure-openclaw.sh" | tail -n 1)"
oc_bin="$oc_home/node_modules/.bin"
[ -x "$oc_bin/node" ] && [ -e "$oc_bin/openclaw" ] || die "ensure-openclaw.sh left no node/openclaw in $oc_bin"

rm -rf "$out/state" "$out/home" "$out/logs" "$out/expected.json" "$out/fake-log.jsonl"
mkdir -p "$out/state" "$out/home" "$out/logs"
: >"$out/fake-log.jsonl"
: >"$out/logs/turns.jsonl"

# --- the fake ------------------------------------------------------------------------
fake_pid=""
cleanup() {
  if [ -n "$fake_pid" ]; then
    kill "$fake_pid" 2>/dev/null || true
    wait "$fake_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
python3 "$root/tests/openclaw/fake_anthropic.py" --log "$out/fake-log.jsonl" \
  >"$out/logs/fake.stdout" 2>"$out/logs/fake.stderr" &
fake_pid=$!
port=""
for _ in $(seq 1 100); do
  port="$(head -n 1 "$out/logs/fake.stdout" 2>/dev/null || true)"
  [ -n "$port" ] && break
  kill -0 "$fake_pid" 2>/dev/null || { cat "$out/logs/fake.stderr" >&2; die "the fake exited"; }
  sleep 0.1
done
[[ "$port" =~ ^[0-9]+$ ]] || die "the fake printed no port"
step "fake Anthropic API on 127.0.0.1:$port"

# OpenClaw's environment: nothing from the caller but what is named here.
oc_env=(env -i "PATH=$oc_bin:/usr/local/bin:/usr/bin:/bin" "HOME=$out/home" "TZ=UTC" "LANG=C.UTF-8"
  "TERM=dumb" "NO_COLOR=1" "OPENCLAW_STATE_DIR=$out/state" "ANTHROPIC_API_KEY=sk-ant-api03-fake")

run_oc() { # NAME ARGS...: one bounded openclaw command, its output in logs/NAME.{out,err}
  local name="$1"
  shift
  local rc=0
  timeout -k 10 "$TURN_TIMEOUT" "${oc_env[@]}" openclaw "$@" \
    >"$out/logs/$name.out" 2>"$out/logs/$name.err" </dev/null || rc=$?
  return "$rc"
}

step "openclaw config set models.providers.anthropic.baseUrl"
run_oc config-set config set models.providers.anthropic.baseUrl "http://127.0.0.1:$port" ||
  { tail -n 20 "$out/logs/config-set.err" >&2; die "openclaw config set failed"; }

# run_turn NAME EXPECTED_KEY OPTIONAL SESSION_KEY_ARG MESSAGE
run_turn() {
  local name="$1" key="$2" optional="$3" key_arg="$4" message="$5"
  local before after rc=0 t0=$SECONDS
  local args=(agent --local --agent main --message "$message" --model "$MODEL" --json)
  [ -n "$key_arg" ] && args+=(--session-key "$key_arg")
  before="$(wc -l <"$out/fake-log.jsonl")"
  run_oc "$name" "${args[@]}" || rc=$?
  after="$(wc -l <"$out/fake-log.jsonl")"
  python3 -c 'import json,sys; print(json.dumps(dict(zip(
    ["name","session_key","optional","session_key_arg","message","exit_code","seconds","fake_log_from","fake_log_to"],
    [sys.argv[1],sys.argv[2],sys.argv[3]=="1",sys.argv[4] or None,sys.argv[5],int(sys.argv[6]),int(sys.argv[7]),int(sys.argv[8]),int(sys.argv[9])]))))' \
    "$name" "$key" "$optional" "$key_arg" "$message" "$rc" "$((SECONDS - t0))" "$before" "$after" >>"$out/logs/turns.jsonl"
  if [ "$rc" -ne 0 ]; then
    if [ "$optional" = 1 ]; then
      step "turn $name: openclaw exited $rc (optional, recorded)"
      return 0
    fi
    tail -n 30 "$out/logs/$name.err" >&2
    [ "$rc" -eq 124 ] && die "turn $name timed out after ${TURN_TIMEOUT}s"
    die "turn $name: openclaw exited $rc"
  fi
  step "turn $name ($key): $((after - before)) request(s), $((SECONDS - t0))s"
}

run_turn main-1 agent:main:main 0 "" "Fixture turn one: say hello."
run_turn main-2 agent:main:main 0 "" "Fixture turn two: say hello again."
run_turn main-heartbeat agent:main:main 0 "" "HEARTBEAT check: reply HEARTBEAT_OK if nothing needs attention."
run_turn subagent "$SUBAGENT_KEY" 0 "$SUBAGENT_KEY" "Subagent fixture task: report done."
run_turn cron "$CRON_KEY" 0 "$CRON_KEY" "Nightly cron fixture run: report status."
run_turn heartbeat-key "$HEARTBEAT_KEY" 1 "$HEARTBEAT_KEY" "HEARTBEAT isolated check: reply HEARTBEAT_OK if nothing needs attention."
run_turn long agent:main:main 0 "" "LONGANSWER fixture turn: write a long answer."

cleanup
fake_pid=""
if [ -s "$out/logs/fake.stderr" ]; then
  tail -n 20 "$out/logs/fake.stderr" >&2
  die "the fake wrote errors (logs/fake.stderr)"
fi

# --- read the store back, cross-check with the fake's log, write expected.json ----------
step "reading back the SQLite store"
python3 - "$out" "$zstd_mode" <<'PY'
import json
import os
import sqlite3
import subprocess
import sys

out, zstd_mode = sys.argv[1], sys.argv[2]
state = os.path.join(out, "state")
db_rel = "state/agents/main/agent/openclaw-agent.sqlite"
db_path = os.path.join(out, db_rel)
errors = []


def err(msg):
    errors.append(msg)


def unzstd(blob):
    if zstd_mode == "python":
        import zstandard
        return zstandard.ZstdDecompressor().decompressobj().decompress(blob)
    return subprocess.run(["zstd", "-d", "-q", "-c"], input=blob, capture_output=True, check=True).stdout


def frame_info(b):
    """The header of the first zstd frame (RFC 8878 3.1.1)."""
    info = {"bytes": len(b), "magic": b[:4].hex()}
    if b[:4] != b"\x28\xb5\x2f\xfd":
        info["zstd_frame"] = False
        return info
    fhd = b[4]
    fcs_flag, single, checksum, did_flag = fhd >> 6, (fhd >> 5) & 1, (fhd >> 2) & 1, fhd & 3
    pos = 5 + (0 if single else 1)
    did_size = (0, 1, 2, 4)[did_flag]
    dict_id = int.from_bytes(b[pos:pos + did_size], "little") if did_size else 0
    pos += did_size
    fcs_size = ((1 if single else 0), 2, 4, 8)[fcs_flag]
    fcs = None
    if fcs_size:
        fcs = int.from_bytes(b[pos:pos + fcs_size], "little") + (256 if fcs_size == 2 else 0)
    info.update({"zstd_frame": True, "dictionary_id": dict_id, "content_size": fcs,
                 "single_segment": bool(single), "content_checksum": bool(checksum)})
    return info


if not os.path.exists(db_path):
    sys.exit(f"openclaw-fixture: {db_rel} was not written")
con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
con.row_factory = sqlite3.Row

meta = {r["meta_key"]: dict(r) for r in con.execute("SELECT * FROM schema_meta")}
windows = {r["session_id"]: dict(r) for r in con.execute("SELECT * FROM session_windows")}
nodes = {r["session_key"]: dict(r) for r in con.execute("SELECT * FROM session_nodes")}

events = {}  # (session_id, seq) -> (event, compressed)
compressed = []
for r in con.execute("SELECT session_id, seq, event_json, event_zstd, event_utf8_bytes, "
                     "navigation_json FROM transcript_events ORDER BY session_id, seq"):
    if r["event_json"] is not None:
        text, was_compressed = r["event_json"], False
    else:
        blob = bytes(r["event_zstd"])
        raw = unzstd(blob)
        if len(raw) != r["event_utf8_bytes"]:
            err(f"{r['session_id']}/{r['seq']}: {len(raw)} bytes decompressed, event_utf8_bytes says {r['event_utf8_bytes']}")
        text, was_compressed = raw.decode("utf-8"), True
    ev = json.loads(text)
    events[(r["session_id"], r["seq"])] = (ev, was_compressed)
    if was_compressed:
        msg = ev.get("message") or {}
        compressed.append({
            "session_id": r["session_id"],
            "session_key": windows.get(r["session_id"], {}).get("session_key"),
            "seq": r["seq"], "type": ev.get("type"), "role": msg.get("role"),
            "response_id": msg.get("responseId"), "event_utf8_bytes": r["event_utf8_bytes"],
            "frame": frame_info(bytes(r["event_zstd"])),
            "navigation_json": json.loads(r["navigation_json"]) if r["navigation_json"] else None,
        })

fake = []
for line in open(os.path.join(out, "fake-log.jsonl"), encoding="utf-8"):
    if line.strip():
        fake.append(json.loads(line))
turns = [json.loads(l) for l in open(os.path.join(out, "logs/turns.jsonl"), encoding="utf-8") if l.strip()]
turn_of_line = {}
for t in turns:
    for i in range(t["fake_log_from"], t["fake_log_to"]):
        turn_of_line[i] = t
fake_by_id = {}
for i, rec in enumerate(fake):
    if rec.get("kind") == "messages":
        rec["_turn"] = turn_of_line.get(i)
        fake_by_id[rec["id"]] = rec

by_entry_id = {}
for (sid, seq), (ev, _) in events.items():
    if "id" in ev:
        by_entry_id[(sid, ev["id"])] = ev


def prompt_of(sid, ev):
    """The user message this assistant entry answers (walking parentId)."""
    seen = 0
    cur = ev
    while cur is not None and seen < 1000:
        seen += 1
        m = cur.get("message") or {}
        if cur.get("type") == "message" and m.get("role") == "user":
            c = m.get("content")
            if isinstance(c, list):
                c = "\n".join(b.get("text", "") for b in c if isinstance(b, dict))
            return c
        cur = by_entry_id.get((sid, cur.get("parentId")))
    return None


USAGE_KEYS = ("input", "output", "cacheRead", "cacheWrite", "cacheWrite1h")
calls, non_usage = [], []
for (sid, seq), (ev, was_compressed) in sorted(events.items()):
    m = ev.get("message") or {}
    if ev.get("type") != "message" or m.get("role") != "assistant":
        continue
    u = m.get("usage") or {}
    key = windows.get(sid, {}).get("session_key")
    if not any(u.get(k) for k in ("input", "output", "cacheRead", "cacheWrite")):
        non_usage.append({"session_key": key, "session_id": sid, "seq": seq, "entry_id": ev.get("id"),
                          "stop_reason": m.get("stopReason"), "error_message": m.get("errorMessage"),
                          "response_id": m.get("responseId"), "provider": m.get("provider"),
                          "model": m.get("model"), "usage": u})
        continue
    rid = m.get("responseId")
    f = fake_by_id.get(rid)
    turn = (f or {}).get("_turn") or {}
    call = {
        "session_key": key, "session_id": sid, "seq": seq, "entry_id": ev.get("id"),
        "response_id": rid, "provider": m.get("provider"), "model": m.get("model"),
        "api": m.get("api"), "stop_reason": m.get("stopReason"),
        "timestamp": ev.get("timestamp"), "message_timestamp": m.get("timestamp"),
        "usage": {k: u.get(k, 0) for k in USAGE_KEYS + ("totalTokens",)},
        "compressed": was_compressed, "turn": turn.get("name"), "fake_n": (f or {}).get("n"),
        "prompt": prompt_of(sid, ev),
    }
    calls.append(call)
    if key is None:
        err(f"{sid}/{seq}: no session_windows row for the session")
    if f is None:
        err(f"{sid}/{seq}: responseId {rid!r} is in no request the fake answered")
        continue
    fu = f["usage"]
    want = {"input": fu["input_tokens"], "output": fu["output_tokens"],
            "cacheRead": fu["cache_read_input_tokens"], "cacheWrite": fu["cache_creation_input_tokens"],
            "cacheWrite1h": fu["cache_creation"]["ephemeral_1h_input_tokens"]}
    got = {k: u.get(k) for k in USAGE_KEYS}
    if got != want:
        err(f"{rid}: the store says {got}, the fake sent {want}")
    if u.get("totalTokens") != sum(want[k] for k in ("input", "output", "cacheRead", "cacheWrite")):
        err(f"{rid}: totalTokens {u.get('totalTokens')} is not input+output+cacheRead+cacheWrite")
    if turn and key != turn["session_key"]:
        err(f"{rid}: stored under {key!r}, turn {turn['name']} ran under {turn['session_key']!r}")
    if turn and call["prompt"] != turn["message"]:
        err(f"{rid}: answers the user message {call['prompt']!r}, turn {turn['name']} sent {turn['message']!r}")
    if f.get("long") and not was_compressed:
        err(f"{rid}: the LONGANSWER reply ({f['answer_chars']} chars) is stored uncompressed")

ids = [c["response_id"] for c in calls]
for rid in sorted({i for i in ids if ids.count(i) > 1}):
    err(f"responseId {rid} is stored {ids.count(rid)} times")
stored = set(ids)
not_stored = []
for rid, f in fake_by_id.items():
    if rid not in stored:
        not_stored.append({"id": rid, "n": f["n"], "probe": f["probe"], "turn": (f.get("_turn") or {}).get("name")})
        if not f["probe"]:
            err(f"{rid} (request {f['n']}, turn {(f.get('_turn') or {}).get('name')}) was answered but is not in the store")

# Each turn's --json output names its session: it has to be the one its calls were stored in.
turn_summary = []
for t in turns:
    sid = None
    try:
        meta_out = json.load(open(os.path.join(out, "logs", t["name"] + ".out"), encoding="utf-8"))
        sid = ((meta_out.get("meta") or {}).get("agentMeta") or {}).get("sessionId")
    except (OSError, ValueError):
        pass
    tc = [c for c in calls if c["turn"] == t["name"]]
    for c in tc:
        if sid and c["session_id"] != sid:
            err(f"turn {t['name']}: --json says session {sid}, its call {c['response_id']} is in {c['session_id']}")
    if t["exit_code"] == 0 and not tc:
        err(f"turn {t['name']} succeeded but no call of it is in the store")
    turn_summary.append(dict(t, session_id=sid, accepted=t["exit_code"] == 0,
                             response_ids=[c["response_id"] for c in tc]))

totals = {}
for c in calls:
    s = totals.setdefault(c["session_key"], dict({k: 0 for k in USAGE_KEYS + ("totalTokens",)}, calls=0))
    s["calls"] += 1
    for k in USAGE_KEYS + ("totalTokens",):
        s[k] += c["usage"][k]
grand = dict({k: sum(s[k] for s in totals.values()) for k in USAGE_KEYS + ("totalTokens",)},
             calls=len(calls))

sessions = []
for key, n in sorted(nodes.items()):
    entry = json.loads(n["entry_json"])
    sessions.append({
        "session_key": key, "current_session_id": n["current_session_id"],
        "session_ids": sorted(sid for sid, w in windows.items() if w["session_key"] == key),
        "label": n["label"], "display_name": n["display_name"], "spawned_by": n["spawned_by"],
        "parent_session_key": n["parent_session_key"], "created_via": n["created_via"],
        "status": n["status"], "category": n["category"],
        "entry": {k: entry.get(k) for k in ("sessionId", "label", "spawnedBy", "parentSessionKey",
                                              "spawnDepth", "heartbeatIsolatedBaseSessionKey",
                                              "inputTokens", "outputTokens", "cacheRead",
                                              "cacheWrite", "totalTokens") if k in entry},
    })

files = []
for d, _, fs in os.walk(state):
    for name in fs:
        if name.endswith(".jsonl") or name == "sessions.json" or ".jsonl." in name:
            files.append(os.path.relpath(os.path.join(d, name), out))

expected = {
    "openclaw_version": (meta.get("primary") or {}).get("app_version"),
    "schema_version": (meta.get("primary") or {}).get("schema_version"),
    "state_dir": "state",
    "sqlite": db_rel,
    "agent_id": "main",
    "calls": sorted(calls, key=lambda c: c["fake_n"] or 0),
    "totals": {"all": grand, "by_session_key": totals},
    "assistant_entries_without_usage": non_usage,
    "compressed_events": compressed,
    "sessions": sessions,
    "turns": turn_summary,
    "fake_requests": {"answered": len(fake_by_id), "probes": sum(1 for f in fake_by_id.values() if f["probe"]),
                      "not_in_store": not_stored,
                      "other": [f for f in fake if f.get("kind") != "messages"]},
    "jsonl_files": sorted(files),
    "zstd_decompressor": zstd_mode,
}
with open(os.path.join(out, "expected.json"), "w", encoding="utf-8") as fh:
    json.dump(expected, fh, indent=2, sort_keys=True, ensure_ascii=False)
    fh.write("\n")

for c in expected["calls"]:
    u = c["usage"]
    print(f"  {c['response_id']}  {c['session_key']:<52} in={u['input']} out={u['output']} "
          f"cr={u['cacheRead']} cw={u['cacheWrite']} cw1h={u['cacheWrite1h']}"
          f"{'  [zstd]' if c['compressed'] else ''}", file=sys.stderr)
if errors:
    for e in errors:
        print(f"openclaw-fixture: MISMATCH: {e}", file=sys.stderr)
    sys.exit(f"openclaw-fixture: {len(errors)} disagreement(s) between the store and the fake; see {out}")
PY
step "wrote $out/expected.json"
