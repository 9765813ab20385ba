"""Issue 12's second stage for the spam model: a short fine-tune of a trained checkpoint on its short
training rows (subject lines, first sentences, short clips: at most --short-tokens tokens), plus a
seeded --replay share of the longer rows so that whole messages are not forgotten. Then one pass
over the val and eval slices: accuracy and ECE per slice for two temperatures fitted on val, the
pooled-rows NLL (as train.py) and the slices' NLL weighted equally.

    /usr/bin/python3 scripts/train/finetune_short.py --data DIR --init models/spam --out OUT \
        [--short-tokens 32 --replay 0.05 --lr 2e-4 --epochs 1]

DIR is prepare.ts's spam folder (train.json, {val,eval}-slices.json, vocab.txt). Writes OUT (the
checkpoint, calibration.json with the temperature whose worst val-slice ECE is lower) and
DIR/finetune-results.json. Cheaper than train.py --calibrate: each held-out row is scored once.
"""

import argparse
import json
import os
import random
import shutil
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train import (BertForSequenceClassification, adamw_linear, ece, fit_temperature, hf_config, load_slices,  # noqa: E402
                   load_split, metrics, predict, save_safetensors, temperature_by_nll, tokenizer_files, train_epoch,
                   write_json)
from logits import load_safetensors  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--init", required=True, help="the trained checkpoint folder (same vocab.txt)")
    p.add_argument("--out", required=True)
    p.add_argument("--short-tokens", type=int, default=32, help="train rows with at most this many tokens are all used")
    p.add_argument("--replay", type=float, default=0.05, help="share of the longer train rows also used (seeded)")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--warmup", type=float, default=0.1)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()

    torch.set_num_threads(2)
    torch.set_flush_denormal(True)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    t_start = time.time()
    with open(os.path.join(args.data, "vocab.txt")) as f:
        vocab = f.read().split("\n")[:-1]
    with open(os.path.join(args.init, "vocab.txt")) as f:
        if f.read().split("\n")[:-1] != vocab:
            sys.exit(f"--init {args.init}: its vocab.txt differs from {args.data}/vocab.txt")
    with open(os.path.join(args.init, "config.json")) as f:
        cfg = json.load(f)
    cfg["num_labels"] = len(cfg["id2label"])
    model = BertForSequenceClassification(cfg)
    model.load_state_dict(load_safetensors(os.path.join(args.init, "model.safetensors")))

    train = [r for r in load_split(args.data, "train") if len(r[0]) <= args.short_tokens or rng.random() < args.replay]
    print(f"fine-tune on {len(train)} rows ({sum(len(r[0]) for r in train)} tokens)", flush=True)
    opt, sched = adamw_linear(model, args, args.epochs * -(-len(train) // args.batch))
    history = []
    for epoch in range(1, args.epochs + 1):
        t0 = time.time()
        loss = train_epoch(model, train, args.batch, rng, opt, sched)
        history.append({"epoch": epoch, "train_loss": loss})
        print(f"epoch {epoch}: train loss {loss:.4f} ({time.time() - t0:.0f} s)", flush=True)

    model.load_state_dict({k: v.half().float() for k, v in model.state_dict().items()})  # what is saved
    scored = {}
    for split in ("val", "eval"):
        for name, rows in load_slices(args.data, split).items():
            scored[(split, name)] = (predict(model, rows), torch.tensor([r[2] for r in rows]))
        print(f"scored {split} ({time.time() - t_start:.0f} s)", flush=True)
    val = [v for (s, _), v in scored.items() if s == "val"]
    pooled_l, pooled_y = torch.cat([l for l, _ in val]), torch.cat([y for _, y in val])
    temps = {
        "pooled": fit_temperature(pooled_l, pooled_y.tolist()),
        "slices equal": temperature_by_nll(lambda b: sum(F.cross_entropy(l * b, y).item() for l, y in val)),
    }
    report = {}
    for tname, T in temps.items():
        rep = {}
        for (split, name), (l, y) in scored.items():
            m = metrics(l, [(None, None, g) for g in y.tolist()])
            m.update({"rows": len(y), "ece": ece(l.softmax(-1), y.tolist()), "ece_t": ece((l / T).softmax(-1), y.tolist())})
            rep.setdefault(split, {})[name] = m
        report[tname] = {"temperature": T, **rep}
        print(f"T {T:.4f} ({tname})", flush=True)
        for split in ("val", "eval"):
            for name, m in rep[split].items():
                print(f"  {split} {name}: {m['rows']} rows, accuracy {100 * m['accuracy']:.2f}, ECE {m['ece']:.4f} -> {m['ece_t']:.4f}", flush=True)
    pick = min(report, key=lambda t: max(m["ece_t"] for m in report[t]["val"].values()))
    print(f"kept T {report[pick]['temperature']:.4f} ({pick}: lower worst val-slice ECE)", flush=True)

    os.makedirs(args.out, exist_ok=True)
    save_safetensors(os.path.join(args.out, "model.safetensors"), {k: v.half() for k, v in model.state_dict().items()})
    write_json(os.path.join(args.out, "config.json"), hf_config(cfg, [cfg["id2label"][str(i)] for i in range(cfg["num_labels"])]))
    shutil.copyfile(os.path.join(args.data, "vocab.txt"), os.path.join(args.out, "vocab.txt"))
    tokenizer_files(args.out, vocab, cfg["max_position_embeddings"])
    write_json(os.path.join(args.out, "calibration.json"), {"temperature": round(report[pick]["temperature"], 6)})
    write_json(os.path.join(args.data, "finetune-results.json"),
               {"args": vars(args), "rows": len(train), "history": history, "kept": pick, "report": report,
                "seconds": round(time.time() - t_start)})
    print(f"wrote {args.out} in {time.time() - t_start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
