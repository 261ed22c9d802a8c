#!/usr/bin/env python3
"""For each prompt of a llamacpp_ref.py `generate` output, llama.cpp's own
logit margin (top-1 minus top-2) at every generated position, evaluated
teacher-forced on its own tokens. kiln's golden test uses these to tell a
real disagreement from a near-tie that any arithmetic change can flip.

  margins.py MODEL.gguf GENERATE.json OUT.json
"""
import json, sys
import numpy as np
from llama_cpp import Llama

model, gen_file, out_file = sys.argv[1:4]
m = Llama(model_path=model, n_ctx=2048, n_threads=2, verbose=False, seed=0, logits_all=True, n_batch=512)
out = []
for g in json.load(open(gen_file)):
    ids = g["prompt_ids"] + g["gen_ids"]
    m.reset(); m.eval(ids)
    logits = np.array(m.scores[:len(ids)], dtype=np.float64)
    n = len(g["prompt_ids"])
    margins = []
    for i in range(len(g["gen_ids"]) + 1):   # the last one decides the token after the golden run (or EOS)
        row = np.sort(logits[n - 1 + i])[::-1]
        margins.append(float(row[0] - row[1]))
    out.append({"prompt": g["prompt"], "margins": margins})
json.dump(out, open(out_file, "w"), indent=1)
