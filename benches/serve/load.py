"""Load test of `kiln serve` (or any OpenAI-compatible server) over HTTP,
with the standard library only (runs where the `openai` package is not
installed): after --warmup seconds of warm-up requests, one streaming
chat completion alone, then CLIENTS at once,
each TOKENS tokens, greedy; prints a JSON line, then a table.

    python3 benches/serve/load.py --url http://127.0.0.1:8080 --model smollm2-135m \
        [--key KEY] [--clients 32] [--tokens 64] [--expect FILE]

--save FILE writes every reply as JSON ([{"question", "content"}, ...]);
--expect FILE reads such a file (from a run with one client at a time) and
every reply to a question it holds must equal it.
"""

import argparse
import http.client
import json
import sys
import threading
import time
import urllib.parse

QUESTIONS = [
    "What is the capital of France?",
    "Name three colors.",
    "What is 2 + 2?",
    "Write a haiku about the sea.",
    "Who wrote Hamlet?",
    "What do bees make?",
    "Say hello in Spanish.",
    "What is the largest planet?",
]


def health(url):
    """The server's `GET /health` object ({} when it has none)."""
    u = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    conn.request("GET", "/health")
    resp = conn.getresponse()
    return json.loads(resp.read()) if resp.status == 200 else {}


def stream_chat(url, model, key, question, tokens):
    u = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": question}], "max_tokens": tokens,
                       "temperature": 0, "stream": True, "stream_options": {"include_usage": True}})
    headers = {"content-type": "application/json"}
    if key:
        headers["authorization"] = "Bearer " + key
    start = time.monotonic()
    conn.request("POST", "/v1/chat/completions", body, headers)
    resp = conn.getresponse()
    if resp.status != 200:
        raise RuntimeError(f"{resp.status}: {resp.read()[:500]!r}")
    pieces, usage, first = [], None, None
    for line in resp:
        line = line.decode().strip()
        if not line.startswith("data: "):
            continue
        data = line[6:]
        if data == "[DONE]":
            break
        chunk = json.loads(data)
        if "error" in chunk:
            raise RuntimeError(chunk["error"])
        if chunk.get("usage"):
            usage = chunk["usage"]
        for choice in chunk["choices"]:
            text = choice["delta"].get("content") or ""
            if text and first is None:
                first = time.monotonic() - start
            pieces.append(text)
    conn.close()
    return {"question": question, "content": "".join(pieces), "completion_tokens": usage["completion_tokens"],
            "seconds": time.monotonic() - start, "first_token_s": first}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--key", default="")
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--tokens", type=int, default=64)
    p.add_argument("--label", default="")
    p.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up requests before timing")
    p.add_argument("--save")
    p.add_argument("--expect")
    a = p.parse_args()
    # warm-up requests for --warmup seconds first: the first call of each
    # compiled function makes its pipelines and buffers, and a GPU that
    # idled (while the server compiled) runs at a low clock for a while
    start = time.monotonic()
    while True:
        stream_chat(a.url, a.model, a.key, QUESTIONS[1], 16)
        if time.monotonic() - start >= a.warmup:
            break
    alone = stream_chat(a.url, a.model, a.key, QUESTIONS[0], a.tokens)
    replies = [None] * a.clients
    errors = []

    def client(i):
        try:
            replies[i] = stream_chat(a.url, a.model, a.key, QUESTIONS[i % len(QUESTIONS)], a.tokens)
        except Exception as e:  # reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(a.clients)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - start
    if errors:
        sys.exit(f"{len(errors)} clients failed: {errors[:3]}")
    total = sum(r["completion_tokens"] for r in replies)
    mismatches = 0
    if a.expect:
        expected = {r["question"]: r["content"] for r in json.load(open(a.expect))}
        mismatches = sum(1 for r in replies if expected.get(r["question"], r["content"]) != r["content"])
    if a.save:
        json.dump([{"question": r["question"], "content": r["content"]} for r in replies], open(a.save, "w"))
    result = {"label": a.label, "clients": a.clients, "tokens": a.tokens, "alone_tokens_per_s": alone["completion_tokens"] / alone["seconds"],
              "aggregate_tokens_per_s": total / wall, "wall_s": wall, "completion_tokens": total, "mismatches": mismatches,
              "median_first_token_s": sorted(r["first_token_s"] or 0 for r in replies)[len(replies) // 2],
              "kv_cache": health(a.url).get("kv_cache")}
    print(json.dumps(result))
    kv = result["kv_cache"]
    evictions = f" | KV cache {kv['tokens']} tokens, {kv['evictions']} evictions" if kv else ""
    print(f"{a.label:>12} | alone {result['alone_tokens_per_s']:7.1f} tok/s | {a.clients} clients {result['aggregate_tokens_per_s']:7.1f} tok/s "
          f"({result['aggregate_tokens_per_s'] / result['alone_tokens_per_s']:.2f}x) | median first token {result['median_first_token_s']:.2f} s | mismatches {mismatches}{evictions}",
          file=sys.stderr)
    if mismatches:
        sys.exit(1)


if __name__ == "__main__":
    main()
