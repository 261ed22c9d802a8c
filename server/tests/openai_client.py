"""kiln serve through the official `openai` Python package:

    python3 openai_client.py URL MODEL KEY

a chat completion streamed and not, a text completion, and the errors the
package raises for a wrong key, an unknown model, a negative max_tokens
and a temperature out of range; prints one JSON object. Run by
cli/tests/serve.rs, which compares the replies with `kiln chat` and `kiln
generate`.
"""

import json
import sys

import openai

QUESTION = "What is the capital of France?"
PROMPT = "The capital of France is"


def client(url, key):
    return openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0, timeout=600)


def error_of(call):
    try:
        call()
    except openai.APIStatusError as e:
        return {"class": type(e).__name__, "status": e.status_code, "code": (e.body or {}).get("code") if isinstance(e.body, dict) else None}
    return None


def check(url, model, key):
    c = client(url, key)
    messages = [{"role": "user", "content": QUESTION}]
    r = c.chat.completions.create(model=model, messages=messages, max_tokens=24, temperature=0)
    chat = {"content": r.choices[0].message.content, "finish_reason": r.choices[0].finish_reason, "usage": r.usage.model_dump()}
    pieces, finish, usage = [], None, None
    for chunk in c.chat.completions.create(model=model, messages=messages, max_tokens=24, temperature=0, stream=True, stream_options={"include_usage": True}):
        if chunk.usage is not None:
            usage = chunk.usage.model_dump()
        for choice in chunk.choices:
            pieces.append(choice.delta.content or "")
            finish = choice.finish_reason or finish
    streamed = {"content": "".join(pieces), "chunks": len(pieces), "finish_reason": finish, "usage": usage}
    t = c.completions.create(model=model, prompt=PROMPT, max_tokens=16, temperature=0)
    completion = {"text": t.choices[0].text, "finish_reason": t.choices[0].finish_reason}
    models = [m.id for m in c.models.list()]
    errors = {
        "wrong_key": error_of(lambda: client(url, "wrong-" + key).models.list()),
        "unknown_model": error_of(lambda: c.chat.completions.create(model="no-such-model", messages=messages)),
        "negative_max_tokens": error_of(lambda: c.chat.completions.create(model=model, messages=messages, max_tokens=-1)),
        "bad_temperature": error_of(lambda: c.chat.completions.create(model=model, messages=messages, temperature=5)),
    }
    # still serving after the errors
    after = c.chat.completions.create(model=model, messages=messages, max_tokens=4, temperature=0).choices[0].message.content
    print(json.dumps({"chat": chat, "streamed": streamed, "completion": completion, "models": models, "errors": errors, "after_errors": after}))


if __name__ == "__main__":
    check(*sys.argv[1:4])
