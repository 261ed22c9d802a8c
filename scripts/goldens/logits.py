#!/usr/bin/env python3
"""llama.cpp's logits, to the last bit, for each prompt of a llamacpp_ref.py
`generate` output: the 16 largest at the prompt's last position (the
prompt evaluated as one batch) and after one more token (a single-token
decode step, which llama.cpp computes with other kernels). kiln's golden
test compares them with `==`.

  logits.py MODEL.gguf GENERATE.json OUT.json
"""
import json, sys
import numpy as np
from llama_cpp import Llama

model, gen_file, out_file = sys.argv[1:4]
m = Llama(model_path=model, n_ctx=2048, n_threads=2, verbose=False, seed=0, logits_all=True, n_batch=512)
def top(row, k=16):
    # [token id, logit, its f32 bits] (JSON readers may round decimals)
    ids = np.argsort(-row, kind="stable")[:k]
    return [[int(i), float(row[i]), int(row[i:i + 1].view(np.uint32)[0])] for i in ids]
out = []
for g in json.load(open(gen_file)):
    m.reset()
    m.eval(g["prompt_ids"])
    n = len(g["prompt_ids"])
    prefill = np.array(m.scores[n - 1], dtype=np.float32)
    m.eval(g["gen_ids"][:1])
    decode = np.array(m.scores[n], dtype=np.float32)
    out.append({"prompt": g["prompt"], "next_id": g["gen_ids"][0], "prefill_top": top(prefill), "decode_top": top(decode)})
json.dump(out, open(out_file, "w"), indent=1)
