#!/usr/bin/env python3
"""llama.cpp's decode speed on a GGUF, measured like kiln's decode benchmark:
evaluate a prompt, then greedy-decode N tokens one at a time (never stopping
at end of sequence), timing only the decode steps.

  llamacpp_decode.py MODEL.gguf PROMPT_IDS_JSON N_TOKENS THREADS
prints {"prefill_s":..., "decode_s":..., "steps":..., "tokens_per_s":...}
"""
import json, sys, time
from llama_cpp import Llama

model, ids, n, threads = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
m = Llama(model_path=model, n_ctx=2048, n_threads=threads, n_threads_batch=threads, verbose=False, seed=0)
best = None
for _ in range(3):
    m.reset()
    t0 = time.perf_counter()
    m.eval(ids)
    t1 = time.perf_counter()
    tok = int(m.scores[m.n_tokens - 1].argmax())
    for _ in range(n - 1):
        m.eval([tok])
        tok = int(m.scores[m.n_tokens - 1].argmax())
    t2 = time.perf_counter()
    r = {"prefill_s": t1 - t0, "decode_s": t2 - t1, "steps": n - 1, "tokens_per_s": (n - 1) / (t2 - t1)}
    if best is None or r["tokens_per_s"] > best["tokens_per_s"]:
        best = r
print(json.dumps(best))
