#!/usr/bin/env python3
"""Deterministic generator of agent transcript trees for the import benchmark.

    gen_agent_logs.py claude-code OUT --bytes 1G [--files 2000] [--dup 0.4] [--seed 1] [--end ISO]
    gen_agent_logs.py openclaw    OUT --bytes 1G [--agents 4] [--seed 1] [--end ISO]

claude-code writes OUT/projects/<project>/<session>.jsonl (the formats of
shared/docs/agent-logs.md §2 and the real Claude Code 2.0.13 lines in
shared/fixtures/agent-logs/claude-code-real/), plus <session>/subagents/agent-*.jsonl
files (every line isSidechain:true, with agentId) and their agent-*.meta.json.
--files is the number of main session files; subagent files come on top. About --dup
of the lines that carry a call's usage repeat a call seen before (same message.id and
requestId):
  * stream: an earlier line with a smaller output_tokens, then the final line;
  * split: one line per content block, every line with the same usage (ccusage #1728);
  * parent copy: a subagent call written in subagents/agent-*.jsonl and again in the
    parent, as an inline isSidechain:true line or as a type:"progress" line, either
    copy possibly the partial one.
Also user prompts, tool results (with toolUseResult), summary, file-history-snapshot,
system/compact_boundary lines and a few <synthetic> zero-usage lines.

openclaw writes OUT/agents/<agentId>/sessions/<sessionId>.jsonl (agent-logs.md §1.1–1.2:
session header, model_change, thinking_level_change, model-snapshot, user, assistant
and toolResult messages, compaction entries, error and gateway-injected zero-usage
turns, a few exact repeated lines), earlier main sessions as <id>.jsonl.reset.<ts>
archives, and one sessions.json per agent (main, channel, isolated heartbeat,
subagent keys with label and spawnedBy, cron base and run keys). Cron runs older than
a day are pruned from the store (cron.sessionRetention), as OpenClaw does, so those
transcripts have no key; heartbeat turns in the main session use the default prompt.

OUT/expected.json is the ground truth: calls after deduplication (the larger token
total wins among repeats of a Claude Code call; an OpenClaw call is one
(agent, session, entry id)), token totals, calls per session type and model, lines,
bytes and files. Sizes take K/M/G suffixes (powers of 1024).

The output depends only on the arguments: the same --seed and --end give the same
bytes. --end (default: now, floored to the hour, minus one hour) is the newest
timestamp; timestamps spread over the 30 days before it. A different --end changes
only the timestamp digits (the sizes and totals stay the same). Output is streamed
(one line at a time, a few files open), never held in memory.
"""

import argparse
import base64
import json
import math
import os
import random
import shutil
import sys
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

GENERATOR_VERSION = 3
WINDOW_MS = 30 * 24 * 3600 * 1000

CLAUDE_MODELS = (
    "claude-opus-4-5-20251101",
    "claude-sonnet-4-5-20250929",
    "claude-haiku-4-5-20251001",
)
OPENCLAW_MODELS = ("claude-sonnet-4-6", "claude-opus-4-5")
# USD per million tokens: input, output, cache read, cache write 5m, cache write 1h.
OPENCLAW_PRICES = {
    "claude-sonnet-4-6": (3.0, 15.0, 0.3, 3.75, 6.0),
    "claude-opus-4-5": (5.0, 25.0, 0.5, 6.25, 10.0),
}
HEARTBEAT_PROMPT = (
    "Read HEARTBEAT.md if it exists (workspace context). Follow it strictly. Do not infer "
    "or repeat old tasks from prior chats. If nothing needs attention, reply HEARTBEAT_OK."
)

WORDS = (
    "the a to of and in is it for on with that this as be are we you not can will should "
    "function return value error file test config build run import module data user request "
    "response cache token model session agent tool call result output input string number list "
    "map struct impl trait async await query index table column row schema migration rust "
    "python cargo crate serde json parse line read write path directory root record cursor "
    "store ledger price cost report daily total sum count update insert select where order "
    "group limit offset handler router server client timeout retry backoff stream buffer "
    "bytes offset commit transaction rollback postgres sqlite lambda deploy release debug "
    "warning failed passed assert expect unwrap option some none match enum pub fn let mut "
    "self crate::store::Ledger src/main.rs tests/import.rs Cargo.toml README.md naïve café → ✓ …"
).split()
CODE_BITS = (
    "\\n", "\\n", "\\n", "\\n", "\\n\\n", "\\t", "\\\"ok\\\"", "\\\"id\\\":", "{", "}", "();",
    "=>", "->", "::", "&mut", "[0]", "// TODO", "# note", "$ cargo test", "= 42;", "<T>",
)
TOOL_NAMES = ("Bash", "Read", "Edit", "Write", "Grep", "Glob", "TodoWrite", "Read", "Bash")
AGENT_TYPES = ("Explore", "Plan", "general-purpose", "Bash", "code-reviewer")
PROJECT_NAMES = (
    "cost-tracker", "api-gateway", "billing", "infra", "mobile-app", "web", "docs", "ml-pipeline",
    "dashboard", "auth-service", "search", "notifications", "data-warehouse", "cli", "sdk-python",
    "sdk-node", "terraform", "etl", "payments", "chat", "scheduler", "reports", "analytics",
    "backoffice", "edge-proxy", "ingest", "design-system", "monorepo", "playground", "scripts",
)
PATH_WORDS = tuple(w for w in WORDS if w.isalnum())
VERSIONS_NEW = ("2.0.13", "2.0.37", "2.1.14", "2.1.31", "2.1.52")
VERSIONS_OLD = ("1.0.88", "1.0.119")  # written without usage.cache_creation


def parse_size(text):
    """'1G', '30M', '512K', '1.5G' or a plain byte count (powers of 1024)."""
    t = str(text).strip().upper().rstrip("B").rstrip("I")
    mult = 1
    if t and t[-1] in "KMGT":
        mult = 1024 ** ("KMGT".index(t[-1]) + 1)
        t = t[:-1]
    return int(float(t) * mult)


def fmt_size(n):
    for unit, div in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if n >= div and n % div == 0:
            return f"{n // div}{unit}"
    return str(n)


_LATEST_MS = [1 << 62]


def iso(ms):
    """Unix milliseconds as 2026-11-21T14:30:00.123Z (never later than --end)."""
    if ms > _LATEST_MS[0]:
        ms = _LATEST_MS[0]
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)


def default_end():
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    return now - timedelta(hours=1)


def parse_end(text):
    if text is None:
        return default_end()
    at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.astimezone(timezone.utc)


class Gen:
    """Randomness and text shared by both generators (all from one seed)."""

    def __init__(self, seed):
        self.rnd = rnd = random.Random(seed)
        vocab = list(WORDS) + list(CODE_BITS)
        weights = [8.0] * len(WORDS) + [8.0 * len(WORDS) / 8 / len(CODE_BITS)] * len(CODE_BITS)
        tokens = rnd.choices(vocab, weights, k=800_000)
        # Every string in the corpus is already JSON-escaped; it has no backslash pairs,
        # so a slice only ever breaks an escape at its two ends (fixed in text()).
        self.corpus = " ".join(tokens)
        self.clen = len(self.corpus) - 1
        self.b64 = base64.b64encode(rnd.randbytes(3 << 20)).decode()
        self.blen = len(self.b64) - 1
        self._b62 = bytes.maketrans(b"+/=", b"xQ7")

    def text(self, n):
        """About n characters of JSON-escaped text."""
        n = max(1, min(n, self.clen - 1))
        o = self.rnd.randrange(self.clen - n)
        s = self.corpus[o:o + n]
        if s[-1] == "\\":
            s = s[:-1]
        if s[:1] == '"':
            s = s[1:]
        return s

    def sig(self, n):
        n = max(8, min(n, self.blen - 1))
        o = self.rnd.randrange(self.blen - n)
        return self.b64[o:o + n]

    def b62(self, nbytes):
        return base64.b64encode(self.rnd.randbytes(nbytes)).translate(self._b62).decode()

    def uuid(self):
        h = "%032x" % self.rnd.getrandbits(128)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"

    def hex(self, digits):
        return "%0*x" % (digits, self.rnd.getrandbits(4 * digits))

    def lognorm(self, median, sigma, lo, hi):
        v = int(median * math.exp(sigma * self.rnd.gauss(0.0, 1.0)))
        return lo if v < lo else hi if v > hi else v


class Out:
    """One output file: counts bytes and lines."""

    __slots__ = ("f", "bytes", "lines")

    def __init__(self, path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.f = open(path, "wb", buffering=1 << 20)
        self.bytes = 0
        self.lines = 0

    def put(self, line):
        b = line.encode()
        self.f.write(b)
        self.f.write(b"\n")
        self.bytes += len(b) + 1
        self.lines += 1

    def close(self):
        self.f.close()


def new_totals():
    return {"calls": 0, "input": 0, "output": 0, "cache_creation": 0, "cache_creation_5m": 0,
            "cache_creation_1h": 0, "cache_read": 0}


def add_call(totals, inp, out, cw5, cw1, cr):
    totals["calls"] += 1
    totals["input"] += inp
    totals["output"] += out
    totals["cache_creation"] += cw5 + cw1
    totals["cache_creation_5m"] += cw5
    totals["cache_creation_1h"] += cw1
    totals["cache_read"] += cr


def finish_totals(totals):
    t = dict(totals)
    t["total"] = t["input"] + t["output"] + t["cache_creation"] + t["cache_read"]
    return t


def prepare_out(out, force):
    if os.path.exists(out) and os.listdir(out):
        if not force:
            sys.exit(f"{out} exists and is not empty (use --force to replace it)")
        shutil.rmtree(out)
    os.makedirs(out, exist_ok=True)


def write_expected(out, expected):
    tmp = os.path.join(out, "expected.json.tmp")
    with open(tmp, "w") as f:
        json.dump(expected, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, os.path.join(out, "expected.json"))


# --------------------------------------------------------------------------------------
# Claude Code
# --------------------------------------------------------------------------------------


class ClaudeTree:
    def __init__(self, g, out, target, files, dup, end_ms):
        self.g = g
        self.out = out
        self.target = target
        self.files = files
        self.extra_per_call = dup / (1.0 - dup) if dup < 1 else 0.0
        self.owed = 0.0
        self.end_ms = end_ms
        self.start_ms = end_ms - WINDOW_MS
        self.totals = new_totals()
        self.by_model = {m: new_totals() for m in CLAUDE_MODELS}
        self.by_type = {"main": 0, "subagent": 0}
        self.bytes = 0
        self.lines = 0
        self.session_files = 0
        self.subagent_files = 0
        self.meta_files = 0
        self.usage_lines = 0
        self.synthetic_lines = 0
        self.patterns = {"stream": 0, "split": 0, "parent_inline": 0, "parent_progress": 0,
                         "parent_copy_partial": 0, "subagent_copy_partial": 0}
        self.ccusage_delta = {"daily": 0, "daily_calls": 0, "session": 0, "session_calls": 0}
        # What the importer should report, reading files in its order (parents first).
        self.first_seen_larger_later = 0

    # -- lines -------------------------------------------------------------------------

    def usage_json(self, s, inp, out, cw5, cw1, cr):
        if s["old"]:
            return ('{"input_tokens":%d,"cache_creation_input_tokens":%d,"cache_read_input_tokens":%d,'
                    '"output_tokens":%d,"service_tier":"standard"}' % (inp, cw5 + cw1, cr, out))
        return ('{"input_tokens":%d,"cache_creation_input_tokens":%d,"cache_read_input_tokens":%d,'
                '"cache_creation":{"ephemeral_5m_input_tokens":%d,"ephemeral_1h_input_tokens":%d},'
                '"output_tokens":%d,"service_tier":"standard"}' % (inp, cw5 + cw1, cr, cw5, cw1, out))

    def blocks(self, s, sub):
        """A call's content blocks (JSON texts) and the tool it calls (or None)."""
        g, rnd = self.g, self.g.rnd
        blocks = []
        tool = None
        r = rnd.random()
        if r < 0.40:
            blocks.append('{"type":"thinking","thinking":"%s","signature":"%s"}'
                          % (g.text(g.lognorm(340, 0.9, 40, 12000)), g.sig(g.lognorm(400, 0.4, 120, 3000))))
        if rnd.random() < 0.55 or not blocks:
            blocks.append('{"type":"text","text":"%s"}' % g.text(g.lognorm(110, 1.0, 5, 9000)))
        if rnd.random() < 0.62:
            tool = TOOL_NAMES[rnd.randrange(len(TOOL_NAMES))]
            blocks.append(self.tool_use(tool, s))
            if rnd.random() < 0.08:  # parallel tool calls
                blocks.append(self.tool_use(tool, s))
        return blocks, tool

    def tool_use(self, tool, s):
        g = self.g
        tid = "toolu_01" + g.b62(16)[:22]
        path = f"{s['cwd']}/src/{self.word()}_{self.word()}.rs"
        if tool == "Bash":
            inp = '{"command":"%s","description":"%s"}' % (g.text(g.lognorm(60, 0.7, 5, 800)), g.text(30))
        elif tool == "Read":
            inp = '{"file_path":"%s"}' % path
        elif tool == "Edit":
            inp = '{"file_path":"%s","old_string":"%s","new_string":"%s"}' % (
                path, g.text(g.lognorm(140, 0.8, 5, 3000)), g.text(g.lognorm(180, 0.8, 5, 4000)))
        elif tool == "Write":
            inp = '{"file_path":"%s","content":"%s"}' % (path, g.text(g.lognorm(700, 0.9, 50, 20000)))
        elif tool == "Grep":
            inp = '{"pattern":"%s","path":"%s","output_mode":"content"}' % (g.text(16), s["cwd"])
        elif tool == "Glob":
            inp = '{"pattern":"**/*.rs","path":"%s"}' % s["cwd"]
        else:
            inp = '{"todos":[{"content":"%s","status":"in_progress","activeForm":"%s"}]}' % (
                g.text(50), g.text(40))
        return '{"type":"tool_use","id":"%s","name":"%s","input":%s}' % (tid, tool, inp)

    def line_head(self, s, parent, sidechain, agent_id):
        extra = ',"agentId":"%s"' % agent_id if agent_id else ""
        return ('{"parentUuid":%s,"isSidechain":%s,"userType":"external","cwd":"%s","sessionId":"%s",'
                '"version":"%s","gitBranch":"%s"%s' % (
                    '"%s"' % parent if parent else "null", "true" if sidechain else "false",
                    s["cwd"], s["sid"], s["version"], s["branch"], extra))

    def assistant_line(self, s, head, msg_json, req, uid, ts):
        return '%s,"message":%s,"requestId":"%s","type":"assistant","uuid":"%s","timestamp":"%s"}' % (
            head, msg_json, req, uid, iso(ts))

    def message_json(self, model, mid, blocks, stop, usage):
        return ('{"model":"%s","id":"%s","type":"message","role":"assistant","content":[%s],'
                '"stop_reason":%s,"stop_sequence":null,"usage":%s}' % (
                    model, mid, ",".join(blocks), '"%s"' % stop if stop else "null", usage))

    # -- calls -------------------------------------------------------------------------

    def tokens(self, ctx):
        """input, output, cache write, cache read for the next call of a context."""
        g, rnd = self.g, self.g.rnd
        inp = rnd.randint(1, 12) if rnd.random() < 0.96 else rnd.randint(100, 4000)
        if ctx["n"] == 0:
            cw, cr = ctx["size"], 0
        else:
            cw = 0 if rnd.random() < 0.08 else g.lognorm(900, 1.1, 20, 40000)
            cr = ctx["size"]
        ctx["size"] += cw
        ctx["n"] += 1
        if ctx["size"] > 170_000:  # auto-compact
            ctx["size"] = rnd.randint(14_000, 30_000)
            ctx["n"] = 0
        out = g.lognorm(180, 1.2, 1, 16000)
        return inp, out, cw, cr

    def take_extras(self):
        """How many repeat lines this call may have (the rest stays owed)."""
        self.owed += self.extra_per_call * (0.5 + self.g.rnd.random())
        return min(3, int(self.owed))

    def word(self):
        return PATH_WORDS[self.g.rnd.randrange(len(PATH_WORDS))]

    def call(self, s, w, parent, ts, model, ctx, sub=None):
        """Writes one call (and its repeats); returns (last uuid, time, tool or None)."""
        g, rnd = self.g, self.g.rnd
        inp, out, cw, cr = self.tokens(ctx)
        cw1 = cw if s["one_hour"] else 0
        cw5 = cw - cw1
        mid = "msg_01" + g.b62(18)[:22]
        req = "req_011C" + g.b62(15)[:18]
        blocks, tool = self.blocks(s, sub)
        stop = "tool_use" if tool else "end_turn"
        extras = self.take_extras()
        head = self.line_head(s, None, sub is not None, sub["id"] if sub else None)
        final_usage = self.usage_json(s, inp, out, cw5, cw1, cr)
        key_type = "subagent" if sub else "main"
        self.by_type[key_type] += 1
        add_call(self.totals, inp, out, cw5, cw1, cr)
        add_call(self.by_model[model], inp, out, cw5, cw1, cr)

        def head_for(p, sidechain, agent):
            return self.line_head(s, p, sidechain, agent)

        if sub is not None and extras >= 1 and rnd.random() < 0.55:
            # Written in subagents/agent-*.jsonl and again in the parent.
            self.owed -= 1
            out_partial = max(1, out // rnd.randint(3, 40)) if out > 1 else None
            which_partial = rnd.random()
            partial_usage = (self.usage_json(s, inp, out_partial, cw5, cw1, cr)
                             if out_partial is not None and out_partial < out else None)
            parent_usage = sub_usage = final_usage
            if partial_usage and which_partial < 0.25:
                parent_usage = partial_usage
                self.patterns["parent_copy_partial"] += 1
                self.first_seen_larger_later += 1  # the parent is read first
            elif partial_usage and which_partial < 0.40:
                sub_usage = partial_usage
                self.patterns["subagent_copy_partial"] += 1
            uid = g.uuid()
            sub_line = self.assistant_line(s, head_for(sub["parent"], True, sub["id"]),
                                           self.message_json(model, mid, blocks, stop, sub_usage), req, uid, ts)
            sub["out"].put(sub_line)
            sub["parent"] = uid
            self.usage_lines += 2
            pw = sub["parent_out"]
            if rnd.random() < 0.5:
                self.patterns["parent_inline"] += 1
                pw.put(self.assistant_line(s, head_for(sub["parent_uuid"], True, None),
                                           self.message_json(model, mid, blocks, stop, parent_usage), req,
                                           g.uuid(), ts))
            else:
                self.patterns["parent_progress"] += 1
                # ccusage 20.0.24 does not keep the larger of a progress copy and the
                # subagents/ copy: `daily` keeps the progress copy, `session` and
                # `monthly` the subagents/ one. Their totals, for the comparison:
                if parent_usage is not final_usage:
                    self.ccusage_delta["daily"] += out_partial - out
                    self.ccusage_delta["daily_calls"] += 1
                if sub_usage is not final_usage:
                    self.ccusage_delta["session"] += out_partial - out
                    self.ccusage_delta["session_calls"] += 1
                inner = ('{"type":"assistant","timestamp":"%s","message":%s,"requestId":"%s","uuid":"%s"}'
                         % (iso(ts), self.message_json(model, mid, blocks, stop, parent_usage), req, uid))
                pw.put('%s,"type":"progress","data":{"message":%s,"type":"agent_progress","agentId":"%s"},'
                       '"toolUseID":"agent_msg_%s","parentToolUseID":"%s","uuid":"%s","timestamp":"%s"}' % (
                           head_for(sub["parent_uuid"], False, None), inner, sub["id"], g.b62(12)[:16],
                           sub["tool_id"], g.uuid(), iso(ts + 1)))
            return uid, ts + rnd.randint(200, 3000), tool

        sidechain = sub is not None
        agent = sub["id"] if sub else None
        if extras >= 1 and rnd.random() < 0.12:
            extras = max(2, extras)
            # One line per content block, each with the final usage (parallel tool calls
            # or thinking + text + tool_use).
            self.patterns["split"] += 1
            self.owed -= extras
            parts = list(blocks)
            while len(parts) < extras + 1:
                parts.append(self.tool_use(tool or "Read", s))
            parts = parts[:extras + 1]
            last = parent
            for i, block in enumerate(parts):
                uid = g.uuid()
                w.put(self.assistant_line(s, head_for(last, sidechain, agent),
                                          self.message_json(model, mid, [block], stop, final_usage), req, uid, ts))
                last = uid
                ts += rnd.randint(5, 400)
                self.usage_lines += 1
            return last, ts + rnd.randint(200, 3000), tool
        last = parent
        if extras >= 1:
            # Streamed: a first line with the first block and a partial output count.
            self.patterns["stream"] += 1
            self.owed -= 1
            # (a one-token answer repeats itself unchanged)
            out_partial = max(1, min(out - 1, rnd.randint(1, 40))) if out > 1 else out
            if out_partial < out:
                self.first_seen_larger_later += 1
            uid = g.uuid()
            w.put(self.assistant_line(s, head_for(last, sidechain, agent),
                                      self.message_json(model, mid, blocks[:1], None,
                                                        self.usage_json(s, inp, out_partial, cw5, cw1, cr)),
                                      req, uid, ts))
            self.usage_lines += 1
            last = uid
            ts += rnd.randint(300, 4000)
            blocks = blocks[1:] or blocks
        uid = g.uuid()
        w.put(self.assistant_line(s, head_for(last, sidechain, agent),
                                  self.message_json(model, mid, blocks, stop, final_usage), req, uid, ts))
        self.usage_lines += 1
        return uid, ts + rnd.randint(200, 3000), tool

    def tool_result(self, s, w, parent, ts, tool, sidechain, agent):
        g, rnd = self.g, self.g.rnd
        tid = "toolu_01" + g.b62(16)[:22]
        head = self.line_head(s, parent, sidechain, agent)
        uid = g.uuid()
        if tool == "Read":
            body = g.text(g.lognorm(700, 1.0, 20, 30000))
            extra = ('"toolUseResult":{"type":"text","file":{"filePath":"%s/src/lib.rs","content":"%s",'
                     '"numLines":%d,"startLine":1,"totalLines":%d}}' % (s["cwd"], body, 40, 400))
        elif tool == "Bash":
            body = g.text(g.lognorm(250, 1.3, 1, 30000))
            extra = '"toolUseResult":{"stdout":"%s","stderr":"","interrupted":false,"isImage":false}' % body
        elif tool in ("Grep", "Glob"):
            body = g.text(g.lognorm(300, 1.0, 10, 8000))
            extra = '"toolUseResult":{"mode":"content","numFiles":3,"filenames":[],"content":"%s","numLines":12}' % body
        else:
            body = "The file %s/src/lib.rs has been updated." % s["cwd"]
            extra = '"toolUseResult":{"filePath":"%s/src/lib.rs","structuredPatch":[]}' % s["cwd"]
        w.put('%s,"type":"user","message":{"role":"user","content":[{"tool_use_id":"%s","type":"tool_result",'
              '"content":"%s","is_error":false}]},"uuid":"%s","timestamp":"%s",%s}' % (
                  head, tid, body, uid, iso(ts), extra))
        return uid, ts + rnd.randint(100, 5000)

    def user_prompt(self, s, w, parent, ts, sidechain=False, agent=None, text=None):
        g = self.g
        uid = g.uuid()
        body = text if text is not None else g.text(g.lognorm(160, 1.0, 3, 6000))
        w.put('%s,"type":"user","message":{"role":"user","content":"%s"},"uuid":"%s","timestamp":"%s"}' % (
            self.line_head(s, parent, sidechain, agent), body, uid, iso(ts)))
        return uid

    def snapshot(self, w, ts):
        mid = self.g.uuid()
        w.put('{"type":"file-history-snapshot","messageId":"%s","snapshot":{"messageId":"%s",'
              '"trackedFileBackups":{},"timestamp":"%s"},"isSnapshotUpdate":false}' % (mid, mid, iso(ts)))

    # -- sessions ----------------------------------------------------------------------

    def subagent(self, s, pw, parent_uuid, ts, tool_id, base):
        """A subagent run: its own file, calls interleaved with parent copies."""
        g, rnd = self.g, self.g.rnd
        compact = rnd.random() < 0.06
        agent_id = ("acompact-" + g.hex(6)) if compact else g.hex(8)
        path = os.path.join(base, s["sid"], "subagents", f"agent-{agent_id}.jsonl")
        out = Out(path)
        self.subagent_files += 1
        if not compact:
            with open(os.path.join(base, s["sid"], "subagents", f"agent-{agent_id}.meta.json"), "w") as f:
                json.dump({"agentType": AGENT_TYPES[rnd.randrange(len(AGENT_TYPES))],
                           "description": g.text(40), "toolUseId": tool_id}, f)
            self.meta_files += 1
        sub = {"id": agent_id, "out": out, "parent": None, "parent_out": pw, "parent_uuid": parent_uuid,
               "tool_id": tool_id}
        sub["parent"] = self.user_prompt(s, out, None, ts, True, agent_id)
        ts += rnd.randint(500, 3000)
        model = CLAUDE_MODELS[2] if rnd.random() < 0.5 else CLAUDE_MODELS[rnd.randrange(2)]
        ctx = {"size": rnd.randint(6000, 14000), "n": 0}
        for _ in range(1 if compact else g.lognorm(7, 0.7, 1, 60)):
            uid, ts, tool = self.call(s, out, sub["parent"], ts, model, ctx, sub)
            sub["parent"] = uid
            if tool:
                sub["parent"], ts = self.tool_result(s, out, uid, ts, tool, True, agent_id)
        out.close()
        self.bytes += out.bytes
        self.lines += out.lines
        return out.bytes, ts

    def session(self, project, budget):
        g, rnd = self.g, self.g.rnd
        s = {
            "sid": g.uuid(),
            "cwd": "/home/dev/" + project,
            "version": VERSIONS_OLD[rnd.randrange(2)] if rnd.random() < 0.12 else VERSIONS_NEW[rnd.randrange(5)],
            "branch": "main" if rnd.random() < 0.6 else "feature/" + g.hex(6),
            "one_hour": rnd.random() < 0.35,
        }
        s["old"] = s["version"].startswith("1.")
        if s["old"]:
            s["one_hour"] = False
        base = os.path.join(self.out, "projects", "-home-dev-" + project)
        w = Out(os.path.join(base, s["sid"] + ".jsonl"))
        self.session_files += 1
        est_ms = int(budget / 3000 * 25_000)
        ts = self.start_ms + int(rnd.random() * max(0, WINDOW_MS - est_ms - 3_600_000))
        r = rnd.random()
        main_model = CLAUDE_MODELS[0] if r < 0.40 else CLAUDE_MODELS[1] if r < 0.92 else CLAUDE_MODELS[2]
        uses_agents = rnd.random() < 0.45
        ctx = {"size": rnd.randint(9000, 26000), "n": 0}
        if rnd.random() < 0.15:
            w.put('{"type":"summary","summary":"%s","leafUuid":"%s"}' % (g.text(60), g.uuid()))
        parent = None
        written_sub = 0
        while w.bytes + written_sub < budget:
            if rnd.random() < 0.35:
                self.snapshot(w, ts)
            parent = self.user_prompt(s, w, parent, ts)
            ts += rnd.randint(1500, 15000)
            for _ in range(g.lognorm(3, 0.8, 1, 40)):
                model = CLAUDE_MODELS[2] if rnd.random() < 0.07 else main_model
                uid, ts, tool = self.call(s, w, parent, ts, model, ctx)
                parent = uid
                if tool is None:
                    continue
                if uses_agents and rnd.random() < 0.045:
                    tool_id = "toolu_01" + g.b62(16)[:22]
                    n, ts = self.subagent(s, w, parent, ts, tool_id, base)
                    written_sub += n
                parent, ts = self.tool_result(s, w, parent, ts, tool, False, None)
                if w.bytes + written_sub >= budget:
                    break
            if rnd.random() < 0.004:
                # Nothing to answer: Claude Code writes a zero-usage <synthetic> line.
                w.put('%s,"message":{"id":"%s","container":null,"model":"<synthetic>","role":"assistant",'
                      '"stop_reason":"stop_sequence","stop_sequence":"","type":"message","usage":{"input_tokens":0,'
                      '"output_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0},'
                      '"content":[{"type":"text","text":"No response requested."}]},"type":"assistant",'
                      '"uuid":"%s","timestamp":"%s","isApiErrorMessage":false}' % (
                          self.line_head(s, parent, False, None), g.uuid(), g.uuid(), iso(ts)))
                self.usage_lines += 1
                self.synthetic_lines += 1
            if rnd.random() < 0.01:
                w.put('%s,"type":"system","subtype":"compact_boundary","content":"Conversation compacted",'
                      '"isMeta":false,"timestamp":"%s","uuid":"%s","level":"info","compactMetadata":'
                      '{"trigger":"auto","preTokens":%d}}' % (
                          self.line_head(s, None, False, None), iso(ts), g.uuid(), ctx["size"]))
                ctx["size"] = rnd.randint(14000, 30000)
                ctx["n"] = 0
            ts += g.lognorm(60_000, 1.2, 5000, 3_600_000)
            if ts > self.end_ms - 60_000:
                ts = self.end_ms - 60_000
        w.close()
        self.bytes += w.bytes
        self.lines += w.lines

    def ccusage_variants(self):
        """The totals ccusage 20.0.24 gives (it differs only on progress/subagents pairs)."""
        d = self.ccusage_delta
        out = {}
        for name, commands in (("daily", "ccusage claude daily, ccusage daily"),
                               ("session", "ccusage claude session, ccusage claude monthly")):
            t = finish_totals(self.totals)
            t["output"] += d[name]
            t["total"] += d[name]
            out[name] = {"commands": commands, "tokens": t, "calls_differing": d[name + "_calls"],
                         "output_difference": d[name]}
        out["why"] = ("for a subagent call written both as a type:progress line in the parent and in "
                      "subagents/agent-*.jsonl, ccusage keeps one copy by its origin, not the larger one: "
                      "daily keeps the progress copy, session and monthly the subagents/ copy")
        return out

    def run(self):
        g, rnd = self.g, self.g.rnd
        nproj = max(1, min(len(PROJECT_NAMES), self.files // 50 + 3))
        projects = list(PROJECT_NAMES[:nproj])
        weights = [g.lognorm(1000, 1.0, 20, 40000) for _ in range(self.files)]
        total_w = sum(weights)
        for i, wt in enumerate(weights):
            budget = self.target * wt / total_w
            project = projects[min(nproj - 1, int(rnd.paretovariate(1.2)) - 1)]
            self.session(project, budget)
        return {
            "kind": "claude-code",
            "files": self.session_files + self.subagent_files,
            "session_files": self.session_files,
            "subagent_files": self.subagent_files,
            "meta_files": self.meta_files,
            "bytes": self.bytes,
            "lines": self.lines,
            "usage_lines": self.usage_lines,
            "synthetic_lines": self.synthetic_lines,
            "duplicate_lines": self.usage_lines - self.synthetic_lines - self.totals["calls"],
            "duplicate_fraction": round((self.usage_lines - self.synthetic_lines - self.totals["calls"])
                                        / max(1, self.usage_lines - self.synthetic_lines), 4),
            "duplicate_patterns": self.patterns,
            "calls": self.totals["calls"],
            "tokens": finish_totals(self.totals),
            "by_session_type": self.by_type,
            "by_model": {m: finish_totals(t) for m, t in self.by_model.items() if t["calls"]},
            "ccusage_variants": self.ccusage_variants(),
            "importer_report": {
                "calls": self.usage_lines - self.synthetic_lines,
                "created": self.totals["calls"],
                "larger_after_smaller": self.first_seen_larger_later,
                "synthetic_model": self.synthetic_lines,
            },
        }


# --------------------------------------------------------------------------------------
# OpenClaw
# --------------------------------------------------------------------------------------


class OpenclawTree:
    AGENTS = ("main", "research", "ops", "coder", "writer", "support", "finance", "qa")
    CRON_JOBS = (("daily-report", "Daily report", 24), ("inbox-sweep", "Inbox sweep", 6),
                 ("metrics-digest", "Metrics digest", 12), ("backup-check", "Backup check", 24))

    def __init__(self, g, out, target, agents, end_ms):
        self.g = g
        self.out = out
        self.target = target
        self.nagents = max(1, min(agents, len(self.AGENTS)))
        self.end_ms = end_ms
        self.start_ms = end_ms - WINDOW_MS
        self.totals = new_totals()
        self.by_model = {m: new_totals() for m in OPENCLAW_MODELS}
        self.by_type = {"main": 0, "heartbeat": 0, "subagent": 0, "cron": 0}
        self.by_agent = {}
        self.bytes = 0
        self.lines = 0
        self.files = 0
        self.archives = 0
        self.orphans = 0
        self.assistant_lines = 0
        self.repeated_lines = 0
        self.error_turns = 0
        self.injected_turns = 0
        self.cost = Decimal(0)

    def cost_of(self, model, inp, out, cr, cw5, cw1):
        p = OPENCLAW_PRICES[model]
        parts = (inp * p[0] / 1e6, out * p[1] / 1e6, cr * p[2] / 1e6, (cw5 * p[3] + cw1 * p[4]) / 1e6)
        texts = [repr(round(x, 10)) for x in parts]
        total = repr(round(sum(parts), 10))
        return texts, total

    def session(self, agent, sid, kind, budget, t0, t1, model, w_path, heartbeat_turns):
        """One transcript between t0 and t1 (ms)."""
        g, rnd = self.g, self.g.rnd
        w = Out(w_path)
        self.files += 1
        ids = set()

        def eid():
            while True:
                e = g.hex(8)
                if e not in ids:
                    ids.add(e)
                    return e

        ts = t0
        w.put('{"type":"session","version":3,"id":"%s","timestamp":"%s","cwd":"/home/node/.openclaw/workspace%s"}'
              % (sid, iso(ts), "" if agent == "main" else "-" + agent))
        parent = eid()
        w.put('{"type":"model_change","id":"%s","parentId":null,"timestamp":"%s","provider":"anthropic","modelId":"%s"}'
              % (parent, iso(ts + 3), model))
        e = eid()
        w.put('{"type":"thinking_level_change","id":"%s","parentId":"%s","timestamp":"%s","thinkingLevel":"low"}'
              % (e, parent, iso(ts + 4)))
        parent = e
        e = eid()
        w.put('{"type":"custom","customType":"model-snapshot","data":{"timestamp":%d,"provider":"anthropic",'
              '"modelApi":"anthropic-messages","modelId":"%s"},"id":"%s","parentId":"%s","timestamp":"%s"}'
              % (ts + 5, model, e, parent, iso(ts + 5)))
        parent = e
        one_hour = rnd.random() < 0.3
        ctx = rnd.randint(8000, 22000)
        ncalls = 0
        # Spread the turns over [t0, t1]: the expected call count from the budget.
        est_calls = max(1.0, budget / 3200)
        step = max(2000, int((t1 - t0) / est_calls))
        ttype = "heartbeat" if kind == "heartbeat" else kind
        while w.bytes < budget:
            heartbeat = kind == "heartbeat" or (kind == "main" and heartbeat_turns and rnd.random() < 0.08)
            prompt = HEARTBEAT_PROMPT if heartbeat else g.text(g.lognorm(180, 1.0, 3, 5000))
            e = eid()
            w.put('{"type":"message","id":"%s","parentId":"%s","timestamp":"%s","message":{"role":"user",'
                  '"content":[{"type":"text","text":"%s"}],"timestamp":%d}}' % (e, parent, iso(ts), prompt, ts))
            parent = e
            ts += rnd.randint(500, 3000)
            call_type = "heartbeat" if heartbeat else ttype
            if rnd.random() < 0.01:
                e = eid()
                self.error_turns += 1
                self.assistant_lines += 1
                w.put('{"type":"message","id":"%s","parentId":"%s","timestamp":"%s","message":{"role":"assistant",'
                      '"content":[],"api":"anthropic-messages","provider":"anthropic","model":"%s","usage":{"input":0,'
                      '"output":0,"cacheRead":0,"cacheWrite":0,"totalTokens":0,"cost":{"input":0,"output":0,'
                      '"cacheRead":0,"cacheWrite":0,"total":0}},"stopReason":"error","timestamp":%d,'
                      '"errorMessage":"529 {\\"type\\":\\"error\\",\\"error\\":{\\"type\\":\\"overloaded_error\\"}}"}}'
                      % (e, parent, iso(ts), model, ts))
                parent = e
                ts += rnd.randint(1000, 8000)
            n = 1 if heartbeat else g.lognorm(3, 0.8, 1, 30)
            for i in range(n):
                last = i == n - 1
                inp = rnd.randint(1, 40) if rnd.random() < 0.95 else rnd.randint(500, 20000)
                if ncalls == 0:
                    cw, cr = ctx, 0
                else:
                    cw = 0 if rnd.random() < 0.1 else g.lognorm(700, 1.1, 10, 30000)
                    cr = ctx
                ctx += cw
                if ctx > 160_000:
                    ctx = rnd.randint(12_000, 26_000)
                    ncalls = -1
                    e = eid()
                    w.put('{"type":"compaction","id":"%s","parentId":"%s","timestamp":"%s","summary":"%s",'
                          '"firstKeptEntryId":"%s","tokensBefore":%d}' % (
                              e, parent, iso(ts), g.text(g.lognorm(1500, 0.5, 200, 8000)), parent, 160_000))
                    parent = e
                ncalls += 1
                out = g.lognorm(160, 1.2, 1, 12000)
                cw1 = cw if one_hour else 0
                cw5 = cw - cw1
                texts, total = self.cost_of(model, inp, out, cr, cw5, cw1)
                tool = not last and not heartbeat
                blocks = []
                if rnd.random() < 0.35:
                    blocks.append('{"type":"thinking","thinking":"%s","thinkingSignature":"%s"}' % (
                        g.text(g.lognorm(380, 0.9, 20, 10000)), g.sig(g.lognorm(480, 0.4, 100, 2500))))
                if heartbeat:
                    blocks.append('{"type":"text","text":"HEARTBEAT_OK"}')
                elif not tool or rnd.random() < 0.4:
                    blocks.append('{"type":"text","text":"%s"}' % g.text(g.lognorm(220, 1.0, 5, 8000)))
                tool_id = "toolu_01" + g.b62(16)[:22]
                if tool:
                    name = ("exec", "read", "write", "web_search", "browser", "edit")[rnd.randrange(6)]
                    blocks.append('{"type":"toolCall","id":"%s","name":"%s","arguments":{"command":"%s"}}'
                                  % (tool_id, name, g.text(g.lognorm(70, 0.9, 5, 3000))))
                e = eid()
                line = ('{"type":"message","id":"%s","parentId":"%s","timestamp":"%s","message":{"role":"assistant",'
                        '"content":[%s],"api":"anthropic-messages","provider":"anthropic","model":"%s","usage":'
                        '{"input":%d,"output":%d,"cacheRead":%d,"cacheWrite":%d,"cacheWrite1h":%d,"totalTokens":%d,'
                        '"cost":{"input":%s,"output":%s,"cacheRead":%s,"cacheWrite":%s,"total":%s}},'
                        '"stopReason":"%s","timestamp":%d,"responseId":"msg_01%s"}}' % (
                            e, parent, iso(ts + rnd.randint(0, 15000)), ",".join(blocks), model, inp, out, cr,
                            cw, cw1, inp + out + cr + cw, texts[0], texts[1], texts[2], texts[3], total,
                            "toolUse" if tool else "stop", ts, g.b62(18)[:22]))
                w.put(line)
                self.assistant_lines += 1
                if rnd.random() < 0.01:  # the same entry written twice
                    w.put(line)
                    self.assistant_lines += 1
                    self.repeated_lines += 1
                parent = e
                add_call(self.totals, inp, out, cw5, cw1, cr)
                add_call(self.by_model[model], inp, out, cw5, cw1, cr)
                add_call(self.by_agent[agent], inp, out, cw5, cw1, cr)
                self.by_type[call_type] += 1
                self.cost += Decimal(total)
                ts = min(ts + rnd.randint(1000, 20000), self.end_ms - 1000)
                if tool:
                    e = eid()
                    w.put('{"type":"message","id":"%s","parentId":"%s","timestamp":"%s","message":{"role":"toolResult",'
                          '"toolCallId":"%s","toolName":"exec","content":[{"type":"text","text":"%s"}],'
                          '"details":{"status":"completed","exitCode":0,"durationMs":%d},"isError":false,'
                          '"timestamp":%d}}' % (e, parent, iso(ts), tool_id,
                                                g.text(g.lognorm(900, 1.3, 1, 40000)), rnd.randint(5, 9000), ts))
                    parent = e
                    ts += rnd.randint(100, 3000)
            if rnd.random() < 0.003:
                e = eid()
                self.injected_turns += 1
                self.assistant_lines += 1
                w.put('{"type":"message","id":"%s","parentId":"%s","timestamp":"%s","message":{"role":"assistant",'
                      '"content":[{"type":"text","text":"⚠️ Agent failed before reply: fetch failed"}],"timestamp":%d,'
                      '"stopReason":"stop","usage":{"input":0,"output":0,"cacheRead":0,"cacheWrite":0,"totalTokens":0,'
                      '"cost":{"input":0,"output":0,"cacheRead":0,"cacheWrite":0,"total":0}},"api":"openai-responses",'
                      '"provider":"openclaw","model":"gateway-injected"}}' % (e, parent, iso(ts), ts))
                parent = e
            ts += max(1000, int(step * (0.5 + rnd.random())))
            if ts > t1:
                ts = t1
        w.close()
        self.bytes += w.bytes
        self.lines += w.lines
        return ts

    def agent(self, agent, budget, sessions_target):
        g, rnd = self.g, self.g.rnd
        sdir = os.path.join(self.out, "agents", agent, "sessions")
        os.makedirs(sdir, exist_ok=True)
        self.by_agent[agent] = new_totals()
        store = {}
        plans = []  # (unused, sid, kind, weight, t0, t1, model, path, heartbeat turns in a main session)
        main_weight = 3.0 + 0.06 * sessions_target
        main_model = OPENCLAW_MODELS[0] if rnd.random() < 0.7 else OPENCLAW_MODELS[1]
        # The main session and its reset archives, one after another over the window.
        n_arch = 3 + rnd.randrange(4)
        span = WINDOW_MS // (n_arch + 1)
        family = []
        for i in range(n_arch + 1):
            sid = g.uuid()
            t0, t1 = self.start_ms + i * span, self.start_ms + (i + 1) * span - 3_600_000
            if i < n_arch:
                stamp = iso(t1 + 60_000).replace(":", "-")
                path = os.path.join(sdir, f"{sid}.jsonl.reset.{stamp}")
                self.archives += 1
            else:
                t1 = self.end_ms - 600_000
                path = os.path.join(sdir, f"{sid}.jsonl")
            family.append(sid)
            plans.append((None, sid, "main", main_weight, t0, t1, main_model, path, True))
        store[f"agent:{agent}:main"] = {
            "sessionId": family[-1], "updatedAt": self.end_ms - 600_000, "sessionStartedAt": plans[-1][4],
            "sessionFile": os.path.join(sdir, family[-1] + ".jsonl"), "chatType": "direct", "channel": "telegram",
            "origin": {"label": "Telegram", "provider": "telegram", "surface": "telegram", "chatType": "direct"},
            "modelProvider": "anthropic", "model": main_model, "usageFamilyKey": f"agent:{agent}:main",
            "usageFamilySessionIds": family, "compactionCount": rnd.randrange(5),
        }
        if agent == self.AGENTS[0]:
            sid = g.uuid()
            plans.append((None, sid, "main", 3.0, self.start_ms, self.end_ms - 900_000, main_model,
                          os.path.join(sdir, sid + ".jsonl"), True))
            store[f"agent:{agent}:telegram:direct:{rnd.randint(10**8, 10**9)}"] = {
                "sessionId": sid, "updatedAt": self.end_ms - 900_000, "chatType": "direct", "channel": "telegram"}
            sid = g.uuid()
            plans.append((None, sid, "heartbeat", 1.0, self.start_ms, self.end_ms - 1_200_000, OPENCLAW_MODELS[0],
                          os.path.join(sdir, sid + ".jsonl"), False))
            store[f"agent:{agent}:main:heartbeat"] = {
                "sessionId": sid, "updatedAt": self.end_ms - 1_200_000,
                "heartbeatIsolatedBaseSessionKey": f"agent:{agent}:main"}
        # Cron jobs: runs on a schedule; runs older than a day are pruned from the store.
        jobs = [self.CRON_JOBS[(self.AGENTS.index(agent) + k) % len(self.CRON_JOBS)] for k in range(2)]
        remaining = max(2, sessions_target - len(plans))
        cron_budget = max(1, int(remaining * 0.4))
        runs = []
        for job, label, every_h in jobs:
            t = self.end_ms - 2 * 3_600_000
            while t > self.start_ms + 3_600_000 and len(runs) < cron_budget:
                runs.append((t, job, label))
                t -= every_h * 3_600_000
        last_run = {}
        for t, job, label in runs:
            sid = g.uuid()
            run_id = g.hex(12)
            path = os.path.join(sdir, sid + ".jsonl")
            plans.append((None, sid, "cron", 0.5, t, t + 600_000, OPENCLAW_MODELS[0], path, False))
            key = f"agent:{agent}:cron:{job}:run:{run_id}"
            if self.end_ms - t <= 24 * 3_600_000 or rnd.random() < 0.3:
                store[key] = {"sessionId": sid, "updatedAt": t + 600_000, "label": label,
                              "bootstrapContextRunKind": "cron"}
                if job not in last_run or t > last_run[job][0]:
                    last_run[job] = (t, sid, label)
            else:
                # Pruned: no key, typed main by the importer (agent-logs.md §1.5).
                plans[-1] = plans[-1][:2] + ("orphan",) + plans[-1][3:]
                self.orphans += 1
        for job, (t, sid, label) in last_run.items():
            store[f"agent:{agent}:cron:{job}"] = {"sessionId": sid, "updatedAt": t + 600_000, "label": label}
        # Subagents (some at depth 2), spawned from the main session.
        n_sub = max(1, sessions_target - len(plans))
        sub_keys = []
        for i in range(n_sub):
            sid = g.uuid()
            t0 = self.start_ms + int(rnd.random() * (WINDOW_MS - 4 * 3_600_000))
            u = g.uuid()
            if sub_keys and rnd.random() < 0.2:
                parent_key = sub_keys[rnd.randrange(len(sub_keys))]
                key, depth = f"{parent_key}:subagent:{u}", 2
            else:
                parent_key = f"agent:{agent}:main"
                key, depth = f"agent:{agent}:subagent:{u}", 1
                sub_keys.append(key)
            model = OPENCLAW_MODELS[0] if rnd.random() < 0.8 else OPENCLAW_MODELS[1]
            plans.append((None, sid, "subagent", g.lognorm(100, 0.8, 10, 2000) / 100, t0,
                          t0 + 2 * 3_600_000, model, os.path.join(sdir, sid + ".jsonl"), False))
            store[key] = {"sessionId": sid, "updatedAt": t0 + 3_600_000, "spawnedBy": parent_key,
                          "parentSessionKey": parent_key,
                          "label": f"{PATH_WORDS[rnd.randrange(len(PATH_WORDS))]}-{g.hex(4)}",
                          "spawnDepth": depth, "subagentRole": "leaf", "status": "done",
                          "startedAt": t0, "endedAt": t0 + 3_600_000, "runtimeMs": 3_600_000}
        total_w = sum(p[3] for p in plans)
        for (_, sid, kind, wt, t0, t1, model, path, hb) in plans:
            self.session(agent, sid, "main" if kind == "orphan" else kind, budget * wt / total_w, t0, t1, model,
                         path, hb)
        with open(os.path.join(sdir, "sessions.json"), "w") as f:
            json.dump(store, f, indent=2)

    def run(self):
        agents = self.AGENTS[:self.nagents]
        shares = [4.0] + [1.0 + 0.3 * i for i in range(len(agents) - 1)]
        total_share = sum(shares)
        sessions_total = max(12 * len(agents), int(self.target / (400 << 10)))
        for agent, share in zip(agents, shares):
            self.agent(agent, self.target * share / total_share, max(12, int(sessions_total * share / total_share)))
        return {
            "kind": "openclaw",
            "files": self.files,
            "reset_archives": self.archives,
            "sessions_without_key": self.orphans,
            "bytes": self.bytes,
            "lines": self.lines,
            "assistant_lines": self.assistant_lines,
            "repeated_lines": self.repeated_lines,
            "error_turns": self.error_turns,
            "gateway_injected_turns": self.injected_turns,
            "calls": self.totals["calls"],
            "tokens": finish_totals(self.totals),
            "estimated_cost_usd": str(self.cost),
            "by_session_type": self.by_type,
            "by_model": {m: finish_totals(t) for m, t in self.by_model.items() if t["calls"]},
            "by_agent": {a: finish_totals(t) for a, t in self.by_agent.items()},
            "importer_report": {
                "calls": self.totals["calls"] + self.repeated_lines,
                "created": self.totals["calls"],
                "error_turn": self.error_turns,
                "gateway_injected": self.injected_turns,
            },
        }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("kind", choices=["claude-code", "openclaw"])
    p.add_argument("out")
    p.add_argument("--bytes", default="1G", help="approximate size of the transcripts (default 1G)")
    p.add_argument("--files", type=int, default=2000, help="claude-code: main session files (default 2000)")
    p.add_argument("--dup", type=float, default=0.4,
                   help="claude-code: fraction of usage lines that repeat a call (default 0.4)")
    p.add_argument("--agents", type=int, default=4, help="openclaw: agents (default 4)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--end", help="newest timestamp, ISO 8601 UTC (default: now floored to the hour, minus 1 h)")
    p.add_argument("--force", action="store_true", help="replace OUT when it exists")
    args = p.parse_args(argv)
    target = parse_size(args.bytes)
    if not 0 <= args.dup < 0.95:
        p.error("--dup must be in [0, 0.95)")
    end = parse_end(args.end)
    end_ms = int(end.timestamp() * 1000)
    _LATEST_MS[0] = end_ms
    prepare_out(args.out, args.force)
    clock = time.perf_counter()
    g = Gen(args.seed)
    if args.kind == "claude-code":
        tree = ClaudeTree(g, args.out, target, max(1, args.files), args.dup, end_ms)
    else:
        tree = OpenclawTree(g, args.out, target, args.agents, end_ms)
    expected = tree.run()
    seconds = time.perf_counter() - clock
    expected.update({
        "generator": "bench/import/gen_agent_logs.py",
        "generator_version": GENERATOR_VERSION,
        "params": {"kind": args.kind, "bytes": fmt_size(target), "target_bytes": target, "seed": args.seed,
                   "files": args.files if args.kind == "claude-code" else None,
                   "dup": args.dup if args.kind == "claude-code" else None,
                   "agents": args.agents if args.kind == "openclaw" else None},
        "window": {"start": iso(end_ms - WINDOW_MS), "end": iso(end_ms)},
        "generated_seconds": round(seconds, 2),
        "generated_mib_per_s": round(expected["bytes"] / (1 << 20) / max(seconds, 1e-9), 1),
    })
    write_expected(args.out, expected)
    print(json.dumps({k: expected[k] for k in ("kind", "files", "bytes", "lines", "calls", "generated_seconds",
                                               "generated_mib_per_s")}))


if __name__ == "__main__":
    main()
