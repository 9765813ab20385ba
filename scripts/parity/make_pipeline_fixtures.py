"""Pipeline fixtures: tiny random-weight token classifiers and extractive QA models in the
Hugging Face folder layout (save_pretrained), the model outputs (logits) on a set of
inputs, and what Hugging Face's own `token-classification` / `question-answering`
pipelines return for them. test/pipelines.test.ts checks our post-processing against
these (layer a: Hugging Face's logits + our tokenizer's offsets -> our pipeline == theirs)
and, once the runtime has the task heads, the whole chain (layer b: convert the folder,
run our runtime, compare).

Two environments, one per task (run from the project root):

  ner  transformers 5.18 (the token-classification pipeline as it is today), e.g. the
       venv $BASE with torch 2.13.0+cpu, transformers 5.18.0, tokenizers 0.23.2 (made as
       scripts/parity/make_fixtures.py says):
           $BASE/bin/python scripts/parity/make_pipeline_fixtures.py ner
  qa   transformers 4.57.6, the last release with the question-answering pipeline, with
       tokenizers 0.22.2 (0.23.1 and later stop at the first window when asked for
       overflowing tokens, huggingface/tokenizers#2091, so windows after the first would
       be missing from the reference). A REFERENCE-ONLY environment, made offline:
           python3.11 -m venv V
           V/bin/pip install --no-deps --index-url file:///opt/pypi/simple \\
               --extra-index-url file:///opt/pypi-more/simple \\
               "transformers==4.57.6" "tokenizers==0.22.2" requests urllib3
           echo $BASE/lib/python3.11/site-packages > V/lib/python3.11/site-packages/zz-s2.pth
           # 4.57.6 pins huggingface-hub<1.0, which the local mirror lacks (it has 1.33):
           # relax that one import-time check; nothing here touches the hub.
           sed -i 's/"huggingface-hub>=0.34.0,<1.0"/"huggingface-hub>=0.34.0"/' \\
               V/lib/python3.11/site-packages/transformers/dependency_versions_table.py
           V/bin/python scripts/parity/make_pipeline_fixtures.py qa
       (torch, numpy, safetensors and huggingface_hub come from $BASE via the
       .pth file; transformers and tokenizers from V, which comes first on sys.path.)

Output: test/fixtures/pipelines/<name>/ with the model folder (config.json,
model.safetensors, vocab.txt, tokenizer.json, tokenizer_config.json,
special_tokens_map.json) and cases.json. Run time: seconds. Everything is seeded;
rerunning gives the same files with the same torch.

Weights: random (std 0.2), with the heads made to say something. Token classification:
each token id's embedding row gets +3 on hidden dimension 6 + (7 * id mod 10), and the
classifier reads dimension 6 + k for label k with weight +3 (all its weights then x2),
so labels follow the tokens with confident scores (B-/I- runs, runs broken by O,
subwords disagreeing with their word); one label has no B-/I- prefix ("MONEY"), for the
pipeline's bare-tag rule. QA: the
word embedding rows of two marker tokens ("zebra" starts answers, "giraffe" ends them)
get +6 on hidden dimensions 0 and 1, and qa_outputs reads those two dimensions with
weight 4 (plus the random weights), so the best spans are where the contexts put the
markers: at window edges, in words cut by a window edge, the same answer text in two
windows.
"""

import json
import os
import sys

import torch

torch.set_num_threads(1)  # the machine is shared

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "test", "fixtures", "pipelines")

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]  # ids 0..4, as test/helpers/random-model.ts
PUNCT = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
WORDS = (
    "the of and to in is it you that he was for on are with as his they be at one have this from "
    "or had by not but what some we can out other were all there when up use your how said an each "
    "she which do their time if will way about many then them would like so these her long make "
    "thing see him two has look more day could go come did my sound no most number who over know "
    "water than call first people may down side been now find any new work part take get place made "
    "live where after back little only round man year came show every good me give our under name "
    "very through just form much great think say help low line before turn cause same mean differ "
    "move right boy old too does tell sentence set three want air well also play small end put home "
    "read hand port large spell add even land here must big high such follow act why ask men change "
    "went light kind off need house picture try us again animal point mother world near build self "
    "earth father company city river bridge paris berlin york london john mary smith street bank "
    "zebra giraffe red blue green garden museum university station music question answer stop clock "
    "dollars euros cafe paulo sao creme brulee muller don t s o"
).split()
SUBWORDS = ["##ing", "##ed", "##s", "##ly", "##er", "##est", "##ion", "##ers", "##ship", "##ness", "##ville", "##burg"]
LETTERS = list("abcdefghijklmnopqrstuvwxyz")
CASED_WORDS = ["The", "My", "I", "John", "Mary", "Smith", "Paris", "Berlin", "New", "York", "London", "City",
               "Bank", "River", "Bridge", "Company", "Street", "Museum", "University", "Station", "Café", "Müller",
               "São", "Paulo", "crème", "brûlée", "Zebra", "Giraffe", "Hugging", "Face", "Inc", "DUMBO"]


def vocab(cased):
    toks = SPECIALS + PUNCT + list("0123456789") + LETTERS + ["##" + c for c in LETTERS] + ["##" + d for d in "0123456789"]
    if cased:
        toks += list("ABCDEFGHIJKLMNOPQRSTUVWXYZ") + ["##" + c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]
        toks += ["é", "ü", "ã", "û", "è", "##é", "##ü", "##ã", "##û", "##è"]
    toks += WORDS + SUBWORDS + (CASED_WORDS if cased else [])
    seen, out = set(), []
    for t in toks:
        if t not in seen:
            seen.add(t)
            out.append(t)
    return out


def write_tokenizer(folder, cased, max_len, distil=False):
    # Built with the tokenizers library (what BertTokenizerFast converts a vocab.txt to),
    # so that transformers 4.x and 5.x write the same tokenizer.json.
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import BertTokenizerFast, DistilBertTokenizerFast
    # DistilBERT's tokenizer class: the same WordPiece, without token_type_ids among the
    # model inputs (the pipelines pass model_input_names to the model).
    Fast = DistilBertTokenizerFast if distil else BertTokenizerFast
    os.makedirs(folder, exist_ok=True)
    words = vocab(cased)
    with open(os.path.join(folder, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(words) + "\n")
    t = Tokenizer(models.WordPiece(vocab={w: i for i, w in enumerate(words)}, unk_token="[UNK]", max_input_chars_per_word=100))
    t.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=not cased)
    t.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    t.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
                                                     special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    t.decoder = decoders.WordPiece(prefix="##")
    tok = Fast(tokenizer_object=t, do_lower_case=not cased, model_max_length=max_len, unk_token="[UNK]",
                            sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]", mask_token="[MASK]")
    tok.save_pretrained(folder)
    tok = Fast.from_pretrained(folder)
    assert len(tok.get_vocab()) == len(words), (len(tok.get_vocab()), len(words))
    assert tok.convert_ids_to_tokens(tok("the river")["input_ids"]) == ["[CLS]", "the", "river", "[SEP]"]
    return tok


def small_config(cls, n_vocab, max_len, **extra):
    if cls.__name__.startswith("DistilBert"):
        from transformers import DistilBertConfig
        return DistilBertConfig(vocab_size=n_vocab, dim=16, n_layers=2, n_heads=2, hidden_dim=32,
                                max_position_embeddings=max_len, pad_token_id=0, **extra)
    from transformers import BertConfig
    return BertConfig(vocab_size=n_vocab, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                      intermediate_size=32, max_position_embeddings=max_len, type_vocab_size=2, pad_token_id=0, **extra)


def randomize(model, seed):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm" in name or "layer_norm" in name:
                p.copy_((1.0 if name.endswith("weight") else 0.0) + 0.1 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(0.2 * torch.randn(p.shape, generator=gen))
    return model


def word_embeddings(model):
    return model.base_model.embeddings.word_embeddings.weight


def save(model, folder):
    model.save_pretrained(folder, safe_serialization=True)


def floats(t):
    return [float(x) for x in t]


# ---------------------------------------------------------------- token classification

NER_LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC", "MONEY"]

NER_TEXTS = [
    "My name is John Smith and I live in Berlin.",
    "Hugging Face Inc. is a company based in New York City. Its headquarters are in DUMBO, therefore very close to the Manhattan Bridge.",
    "Café Müller in São Paulo sells crème brûlée for three euros.",
    "Don't stop: it's 3.14 o'clock, isn't it? Mary's house!",
    "The zebra and the giraffe live near the river in Parisville and Berlinburg.",
    "Unknown things: 😀 北京 € and naïve e\u0301 words.",
    "the museum station bridge company university street bank river city " * 4,
    "readings, builders, kindness, ownership: playing and played and plays",
    "",
]

AGGREGATIONS = ["none", "simple", "first", "average", "max"]


def ner(name, cls, cased, seed):
    from transformers import pipeline
    folder = os.path.join(OUT, name)
    max_len = 64
    tok = write_tokenizer(folder, cased, max_len, cls.__name__.startswith("DistilBert"))
    config = small_config(cls, len(tok.get_vocab()), max_len, num_labels=len(NER_LABELS),
                          id2label=dict(enumerate(NER_LABELS)), label2id={l: i for i, l in enumerate(NER_LABELS)})
    model = randomize(cls(config), seed).eval()
    with torch.no_grad():
        # Each token id leans to one label (hidden dimension 6 + label), read by the
        # classifier: labels follow the tokens, with the random weights as noise.
        emb = word_embeddings(model)
        for i in range(emb.shape[0]):
            emb[i, 6 + (i * 7) % len(NER_LABELS)] += 3.0
        for k in range(len(NER_LABELS)):
            model.classifier.weight[k, 6 + k] += 3.0
        model.classifier.weight.mul_(2.0)
    save(model, folder)
    model = cls.from_pretrained(folder).eval()
    pipe = pipeline("token-classification", model=model, tokenizer=tok)
    cases = []
    for text in NER_TEXTS:
        enc = tok(text, truncation=True, return_offsets_mapping=True, return_special_tokens_mask=True, return_tensors="pt")
        with torch.no_grad():
            logits = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).logits[0]
        outputs = {}
        for agg in AGGREGATIONS:
            outputs[agg] = [
                {k: (float(v) if k == "score" else int(v) if k in ("start", "end", "index") else v) for k, v in e.items()}
                for e in pipe(text, aggregation_strategy=agg)
            ]
        cases.append({
            "text": text,
            "input_ids": enc["input_ids"][0].tolist(),
            "offsets": enc["offset_mapping"][0].tolist(),
            "logits": [floats(row) for row in logits],
            "outputs": outputs,
        })
    # ignore_labels: keep everything.
    cases.append({**cases[0], "ignore_labels": [], "outputs": {
        agg: [{k: (float(v) if k == "score" else int(v) if k in ("start", "end", "index") else v) for k, v in e.items()}
              for e in pipe(cases[0]["text"], aggregation_strategy=agg, ignore_labels=[])] for agg in ["none", "simple"]}})
    meta = {"transformers": __import__("transformers").__version__, "tokenizers": __import__("tokenizers").__version__,
            "torch": torch.__version__, "model": cls.__name__, "cased": cased}
    with open(os.path.join(folder, "cases.json"), "w", encoding="utf-8") as f:
        json.dump({"meta": meta, "labels": NER_LABELS, "cases": cases}, f, ensure_ascii=False, indent=0)
    print(f"{name}: {len(cases)} cases")


# ---------------------------------------------------------------- question answering

FILL = ("the people of the city live near the river and work in the large house by the old bridge "
        "where many men and animals come to read and play music every day after the long year ").split()


def context(words):
    return " ".join(words)


def qa_cases():
    f = FILL
    return [
        # several overlapping windows; the answer in the middle
        {"question": "where is the zebra?", "context": context(f[:40] + ["the", "zebra", "red", "giraffe", "house"] + f[:60]), "options": {}},
        # the same answer text in two windows (far apart, and in the overlap), top_k 3
        {"question": "which animal?", "context": context(f[:20] + ["zebra", "blue", "giraffe"] + f[:30] + ["Zebra", "Blue", "Giraffe"] + f[:40]),
         "options": {"top_k": 3}},
        # small windows and stride: the marker words sit at window edges and in words cut by an edge
        {"question": "what?", "context": context(f[:10] + ["zebraship", "giraffeness"] + f[10:25] + ["zebras", "ownership", "giraffes"] + f[:20]),
         "options": {"max_seq_len": 24, "doc_stride": 8, "top_k": 4}},
        {"question": "what?", "context": context(f[:13] + ["readingszebraing", "giraffe"] + f[:13] + ["zebra"] + f[:9] + ["giraffe"]),
         "options": {"max_seq_len": 20, "doc_stride": 5, "top_k": 5, "max_answer_len": 6}},
        # accents, punctuation, an [UNK] word, a CJK character next to the answer
        {"question": "Où est le zèbre?", "context": "Café Müller, São Paulo: the zébra 😀 giraffe! 北京 zebra, giraffe. " + context(f[:30]),
         "options": {"top_k": 2}},
        # impossible answers allowed
        {"question": "is there a zebra?", "context": context(f[:50]), "options": {"handle_impossible_answer": True, "top_k": 2}},
        {"question": "zebra giraffe zebra", "context": context(["zebra"] + f[:70] + ["giraffe"]), "options": {"handle_impossible_answer": True}},
        # max_answer_len short; long context with default windows
        {"question": "which?", "context": context((f * 3)[:150] + ["zebra"] + f[:3] + ["giraffe"]), "options": {"max_answer_len": 3, "top_k": 2}},
        {"question": "which?", "context": context(["zebra", "giraffe"] + f[:20]), "options": {}},
    ]


def qa(name, cls, cased, seed):
    from transformers import pipeline
    folder = os.path.join(OUT, name)
    max_len = 64
    tok = write_tokenizer(folder, cased, max_len, cls.__name__.startswith("DistilBert"))
    config = small_config(cls, len(tok.get_vocab()), max_len)
    model = randomize(cls(config), seed).eval()
    v = tok.get_vocab()
    with torch.no_grad():
        emb = word_embeddings(model)
        for word, dim in [("zebra", 0), ("giraffe", 1)] + ([("Zebra", 0), ("Giraffe", 1)] if cased else []):
            emb[v[word], dim] += 6.0
        model.qa_outputs.weight[0, 0] += 4.0
        model.qa_outputs.weight[1, 1] += 4.0
    save(model, folder)
    model = cls.from_pretrained(folder).eval()
    pipe = pipeline("question-answering", model=model, tokenizer=tok)
    cases = []
    for c in qa_cases():
        o = c["options"]
        max_seq_len = o.get("max_seq_len", min(tok.model_max_length, 384))
        stride = o.get("doc_stride", min(max_seq_len // 2, 128))
        enc = tok(c["question"], c["context"], truncation="only_second", max_length=max_seq_len, stride=stride,
                  return_overflowing_tokens=True, return_offsets_mapping=True, return_token_type_ids=True)
        windows = []
        for w in range(len(enc["input_ids"])):
            ids = torch.tensor([enc["input_ids"][w]])
            kw = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
            if "token_type_ids" in tok.model_input_names:
                kw["token_type_ids"] = torch.tensor([enc["token_type_ids"][w]])
            with torch.no_grad():
                out = model(**kw)
            windows.append({"input_ids": enc["input_ids"][w], "token_type_ids": enc["token_type_ids"][w],
                            "start_logits": floats(out.start_logits[0]), "end_logits": floats(out.end_logits[0])})
        got = pipe(question=c["question"], context=c["context"], **o)
        got = got if isinstance(got, list) else [got]
        expected = [{"answer": a["answer"], "score": float(a["score"]), "start": int(a["start"]), "end": int(a["end"])} for a in got]
        cases.append({**c, "windows": windows, "expected": expected})
        print(f"  {len(windows)} windows, {expected}")
    meta = {"transformers": __import__("transformers").__version__, "tokenizers": __import__("tokenizers").__version__,
            "torch": torch.__version__, "model": cls.__name__, "cased": cased}
    with open(os.path.join(folder, "cases.json"), "w", encoding="utf-8") as f:
        json.dump({"meta": meta, "cases": cases}, f, ensure_ascii=False, indent=0)
    print(f"{name}: {len(cases)} cases")


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else ""
    import transformers
    if what == "ner":
        from transformers import BertForTokenClassification, DistilBertForTokenClassification
        ner("ner-bert-uncased", BertForTokenClassification, False, 11)
        ner("ner-distilbert-cased", DistilBertForTokenClassification, True, 12)
    elif what == "qa":
        if transformers.__version__ != "4.57.6":
            sys.exit(f"qa needs transformers 4.57.6 (the question-answering pipeline), found {transformers.__version__}")
        import tokenizers
        if tokenizers.__version__ >= "0.23.1":
            sys.exit(f"qa needs tokenizers < 0.23.1 (huggingface/tokenizers#2091), found {tokenizers.__version__}")
        from transformers import BertForQuestionAnswering, DistilBertForQuestionAnswering
        qa("qa-bert-uncased", BertForQuestionAnswering, False, 21)
        qa("qa-distilbert-cased", DistilBertForQuestionAnswering, True, 22)
    else:
        sys.exit("usage: make_pipeline_fixtures.py ner|qa")


if __name__ == "__main__":
    main()
