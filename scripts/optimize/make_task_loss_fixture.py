"""Per-row float32 losses of the new tasks as PyTorch computes them, for
test/optimize-tasks.test.ts:

- token classification: F.cross_entropy(logits [n, C], labels [n], ignore_index=-100) of one
  row (mean over its labelled tokens), what BertForTokenClassification computes for a batch of one;
- question answering: (F.cross_entropy(start[None], [s]) + F.cross_entropy(end[None], [e])) / 2
  of one window, what BertForQuestionAnswering computes for a batch of one.

Synthetic logits (no NER or QA corpus exists here), confident and not. Run with Debian's torch 1.13:

  /usr/bin/python3 scripts/optimize/make_task_loss_fixture.py test/fixtures/optimize/task-losses.json
"""
import base64, json, sys
import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)
b64 = lambda a, t="<f4": base64.b64encode(np.asarray(a, dtype=t).tobytes()).decode()
rng = np.random.default_rng(0)

tokens = []
for C in [3, 5, 9, 13]:
    for k in range(25):
        n = int(rng.choice([1, 2, 7, 15, 16, 17, 33, 64, 128, 200, 300]))
        scale = float(rng.choice([0.3, 1, 4, 12]))
        z = (rng.standard_normal((n, C)) * scale + rng.standard_normal() * 5).astype(np.float32)
        y = rng.integers(0, C, n)
        y[rng.random(n) < 0.4] = -100
        if (y == -100).all():
            y[0] = 1
        loss = F.cross_entropy(torch.tensor(z), torch.tensor(y), ignore_index=-100)
        tokens.append({"classes": C, "logits": b64(z.ravel()), "labels": [int(v) for v in y], "loss": b64([loss.item()])})

qa = []
for k in range(80):
    n = int(rng.choice([8, 9, 31, 64, 100, 255, 384]))
    scale = float(rng.choice([0.5, 2, 6, 15]))
    s = (rng.standard_normal(n) * scale).astype(np.float32)
    e = (rng.standard_normal(n) * scale).astype(np.float32)
    sp = int(rng.integers(0, n))
    ep = int(rng.integers(sp, n)) if rng.random() < 0.8 else sp
    if rng.random() < 0.2:
        sp = ep = 0  # a window without the answer: both at [CLS]
    loss = (F.cross_entropy(torch.tensor(s)[None], torch.tensor([sp])) + F.cross_entropy(torch.tensor(e)[None], torch.tensor([ep]))) / 2
    qa.append({"start": b64(s), "end": b64(e), "start_position": sp, "end_position": ep, "loss": b64([loss.item()])})

json.dump({"torch": torch.__version__, "cpu_capability": [l.strip() for l in torch.__config__.show().splitlines() if "CPU capability" in l],
           "token_rows": tokens, "qa_windows": qa}, open(sys.argv[1], "w"))
