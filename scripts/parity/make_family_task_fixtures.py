"""The task heads of the RoBERTa family and ELECTRA (issue 16 on top of issue 15's tasks), and the
token-classification / question-answering pipelines with byte-level BPE and Unigram tokenizers:
tiny random-weight models written by save_pretrained (and sentence-transformers' save), float64
references from transformers' own classes, and what Hugging Face's own pipelines return.

Steps (run from the project root; the environments are those of make_pipeline_fixtures.py):
  tokenizer  (transformers 5.18 venv)  test/fixtures/family-tasks/bpe-glue/tokenizer.json: a
             byte-level BPE (RoBERTa's pre-tokenizer, decoder and post-processor) trained with
             the `tokenizers` library on GLUE train sentences (SST-2, MRPC, CoLA from ../shared/data)
             plus a few marker words, 700 tokens.
  heads      (5.18 + sentence-transformers)  test/fixtures/family-tasks/<name>/: config.json,
             model.safetensors, tokenizer_config.json, golden.json (float64 outputs):
             roberta-token, roberta-qa, xlm-roberta-token, xlm-roberta-qa, electra-token,
             electra-qa (embedding_size != hidden_size), roberta-base (a bare RobertaModel),
             electra-base (a bare ElectraModel), st-xlm-roberta (a SentenceTransformer on an
             XLMRobertaModel: mean pooling + Normalize, as paraphrase-multilingual-* ships),
             st-distilroberta (on a RobertaModel, as all-distilroberta-v1).
  ner        (5.18)   test/fixtures/family-tasks/ner-roberta-bpe, ner-xlm-roberta-unigram:
             pipeline("token-classification") outputs for every aggregation.
  qa         (4.57.6 + tokenizers 0.22.2, the reference-only venv of make_pipeline_fixtures.py)
             test/fixtures/family-tasks/qa-roberta-bpe, qa-xlm-roberta-unigram:
             pipeline("question-answering") outputs, with the windows and their logits.

Tokenizers are not copied into each folder (they would be most of the bytes): golden.json /
cases.json name the folder ("tokenizer_from") whose tokenizer.json the test copies in. RoBERTa
and ELECTRA-style folders use bpe-glue; XLM-R folders the real Unigram tokenizer of
test/fixtures/unigram/trained (2501 pieces, trained here with UnigramTrainer, Precompiled
charsmap, Metaspace). ELECTRA models use the BERT WordPiece of make_pipeline_fixtures.py.
"""

import json
import os
import shutil
import sys
import tempfile

import torch

torch.set_num_threads(1)  # the machine is shared

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "test", "fixtures", "family-tasks")
BPE_DIR = os.path.join(OUT, "bpe-glue")
UNIGRAM_DIR = os.path.join(ROOT, "test", "fixtures", "unigram", "trained")
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "data")
sys.path.insert(0, HERE)
import make_pipeline_fixtures as P  # noqa: E402  (NER_TEXTS, NER_LABELS, qa_cases, FILL, floats)

SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]
MARKERS = ["zebra", "giraffe", "Zebra", "Giraffe", "Berlin", "Paris", "John", "Smith"]
H = dict(hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32)
MAX_LEN = 64  # model_max_length; RoBERTa's position table has pad_token_id + 1 more rows
LABELS = P.NER_LABELS
TEXTS = ["hello world", "The movie was great fun!", "a", "Café Müller in São Paulo, naïve e\u0301 😀",
         "it was the best of times, it was the worst of times, it was the age of wisdom and of foolishness"]
QA_PAIRS = [("who was there?", "the team was at home today"), ("what", "hello world"),
            ("Où est le zèbre?", "Café Müller, São Paulo: the zébra 😀 giraffe! 北京 zebra.")]


def f32(xs):
    """float32 values as their shortest decimal (parsed back, the same float32)."""
    import numpy as np
    return [float(str(np.float32(x))) for x in xs]


def g10(xs):
    """float64 references to 10 significant digits (the parity bound is 1e-4)."""
    return [float(f"{float(x):.10g}") for x in xs]


def write_json(path, obj, indent=None):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=indent)
        f.write("\n")
    os.replace(tmp, path)


def glue_lines():
    out = []
    for name, cols in [("sst2/train.tsv", [0]), ("mrpc/train.tsv", [3, 4]), ("cola/train.tsv", [3])]:
        with open(os.path.join(SHARED, name), encoding="utf-8-sig") as f:
            rows = [l.rstrip("\n").split("\t") for l in f][1:3001]
        out += [r[c] for r in rows for c in cols if c < len(r)]
    return out


def make_bpe_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import RobertaTokenizerFast
    t = Tokenizer(models.BPE())
    t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    t.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=700, special_tokens=SPECIALS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    lines = glue_lines() + ["the " + " and the ".join(MARKERS)] * 1000
    t.train_from_iterator(lines, trainer)
    t.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0), trim_offsets=True, add_prefix_space=False)
    tok = RobertaTokenizerFast(tokenizer_object=t, model_max_length=MAX_LEN, bos_token="<s>", eos_token="</s>", sep_token="</s>",
                               cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>")
    os.makedirs(BPE_DIR, exist_ok=True)
    with tempfile.TemporaryDirectory() as d:
        tok.save_pretrained(d)
        for f in ["tokenizer.json", "tokenizer_config.json"]:
            shutil.copy(os.path.join(d, f), os.path.join(BPE_DIR, f))
    tok = RobertaTokenizerFast.from_pretrained(BPE_DIR)
    print(tok.convert_ids_to_tokens(tok(" zebra giraffe Zebra zebraïsh", add_special_tokens=False)["input_ids"]))
    print(f"bpe-glue: {len(tok)} tokens")


def tokenizer_dir(family):
    return UNIGRAM_DIR if family == "xlm-roberta" else BPE_DIR if family == "roberta" else None


def load_tokenizer(family, folder, raw=False):
    from transformers import AutoTokenizer, PreTrainedTokenizerFast
    if family == "electra":
        return P.write_tokenizer(folder, False, MAX_LEN)
    d = tokenizer_dir(family)
    if raw:
        # tokenizer.json as written. transformers 5.18's XLMRobertaTokenizer class rebuilds the
        # pre-tokenizer as WhitespaceSplit + Metaspace, ignoring tokenizer.json's Metaspace alone:
        # its offsets then leave out the space before each word (tokenizers itself, and
        # transformers 4.57.6, keep it) and runs of spaces lose their "▁" tokens. The runtime
        # follows tokenizer.json, so the reference does too.
        return PreTrainedTokenizerFast(tokenizer_file=os.path.join(d, "tokenizer.json"), model_max_length=MAX_LEN,
                                       bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>",
                                       unk_token="<unk>", pad_token="<pad>", mask_token="<mask>")
    with tempfile.TemporaryDirectory() as tmp:
        for f in ["tokenizer.json", "tokenizer_config.json"]:
            shutil.copy(os.path.join(d, f), os.path.join(tmp, f))
        tok = AutoTokenizer.from_pretrained(tmp, model_max_length=MAX_LEN)
    tok.model_max_length = MAX_LEN
    return tok


def config(family, n_vocab, size=None, **extra):
    from transformers import ElectraConfig, RobertaConfig, XLMRobertaConfig
    size = size or H
    if family == "electra":
        return ElectraConfig(vocab_size=n_vocab, embedding_size=8, max_position_embeddings=MAX_LEN, type_vocab_size=2,
                             pad_token_id=0, **size, **extra)
    cls = XLMRobertaConfig if family == "xlm-roberta" else RobertaConfig
    return cls(vocab_size=n_vocab, max_position_embeddings=MAX_LEN + 2, type_vocab_size=1, pad_token_id=1,
               bos_token_id=0, eos_token_id=2, **size, **extra)


def randomize(model, seed):
    return P.randomize(model, seed)


def finish_folder(folder, family, tok, keep_config=False):
    """tokenizer_config.json stays (model_max_length); tokenizer.json is named, not copied."""
    if family == "electra":
        if os.path.exists(os.path.join(folder, "vocab.txt")):
            os.remove(os.path.join(folder, "vocab.txt"))  # tokenizer.json holds the vocabulary
        return {"tokenizer_from": None}
    if not keep_config:
        tc = json.load(open(os.path.join(tokenizer_dir(family), "tokenizer_config.json"), encoding="utf-8"))
        tc["model_max_length"] = MAX_LEN
        write_json(os.path.join(folder, "tokenizer_config.json"), tc, indent=2)
    return {"tokenizer_from": os.path.relpath(tokenizer_dir(family), folder).replace(os.sep, "/")}


def type_ids(family, enc):
    return enc.get("token_type_ids", [0] * len(enc["input_ids"])) if family == "electra" else [0] * len(enc["input_ids"])


def head_fixture(name, family, cls_name, seed, pairs=False, **extra):
    import transformers
    folder = os.path.join(OUT, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    tok = load_tokenizer(family, folder)
    cls = getattr(transformers, cls_name)
    model = randomize(cls(config(family, len(tok), **extra)), seed)
    model.save_pretrained(folder)
    meta = finish_folder(folder, family, tok)
    ref = cls.from_pretrained(folder, attn_implementation="eager").double().eval()
    cases = []
    for text in (QA_PAIRS if pairs else TEXTS):
        enc = tok(*text) if pairs else tok(text, truncation=True)
        ids, tts = enc["input_ids"], type_ids(family, enc)
        with torch.no_grad():
            out = ref(input_ids=torch.tensor([ids]), token_type_ids=torch.tensor([tts]))
        case = {"text": text, "input_ids": ids, "token_type_ids": tts}
        if hasattr(out, "start_logits"):
            case.update(start_logits=g10(out.start_logits[0]), end_logits=g10(out.end_logits[0]))
        elif hasattr(out, "logits"):
            case.update(logits=[g10(r) for r in out.logits[0]])
        cases.append(case)
    if cls_name.endswith("Model"):
        # A bare encoder: sentence-transformers' own default for a folder without modules.json.
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copytree(folder, tmp, dirs_exist_ok=True)
            if meta["tokenizer_from"]:
                shutil.copy(os.path.join(tokenizer_dir(family), "tokenizer.json"), tmp)
            emb = st_encode(tmp, [c["text"] for c in cases])
        for c, e in zip(cases, emb):
            c["embedding"] = g10(e)
    write_json(os.path.join(folder, "golden.json"), {**meta, "model": cls_name, "transformers": transformers.__version__, "cases": cases})
    return folder


def st_encode(d, texts):
    from sentence_transformers import SentenceTransformer
    st = SentenceTransformer(d, device="cpu")
    st.double()
    with torch.no_grad():
        return st.encode(texts, convert_to_tensor=True, batch_size=len(texts)).tolist()


def st_fixture(name, family, base_cls, seed, max_seq_length, size=H):
    import transformers
    from sentence_transformers import SentenceTransformer, models
    folder = os.path.join(OUT, name)
    shutil.rmtree(folder, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        base = os.path.join(tmp, "base")
        os.makedirs(base)
        tok = load_tokenizer(family, base)
        m = randomize(getattr(transformers, base_cls)(config(family, len(tok), size)), seed)
        m.save_pretrained(base)
        tok.save_pretrained(base)
        st = SentenceTransformer(modules=[models.Transformer(base, max_seq_length=max_seq_length),
                                          models.Pooling(size["hidden_size"], pooling_mode="mean"), models.Normalize()], device="cpu")
        st.save(folder)
    embs = st_encode(folder, TEXTS)
    ids = [SentenceTransformer(folder, device="cpu").tokenizer(t, truncation=True, max_length=max_seq_length)["input_ids"] for t in TEXTS]
    for f in ["README.md", "tokenizer.json", "special_tokens_map.json", "vocab.json", "merges.txt", "sentencepiece.bpe.model"]:
        if os.path.exists(os.path.join(folder, f)):
            os.remove(os.path.join(folder, f))
    meta = finish_folder(folder, family, None, keep_config=True)  # sentence-transformers' own (max_seq_length)
    write_json(os.path.join(folder, "golden.json"), {**meta, "model": base_cls, "texts": TEXTS, "input_ids": ids, "embeddings": [g10(e) for e in embs]})


def build_heads():
    os.makedirs(OUT, exist_ok=True)
    labels = dict(id2label=dict(enumerate(LABELS)), label2id={l: i for i, l in enumerate(LABELS)})
    # RoBERTa's and XLM-R's token-classification and QA heads: the ner-* / qa-* folders below
    # (their cases.json holds float64 logits too).
    head_fixture("electra-token", "electra", "ElectraForTokenClassification", 3105, **labels)
    head_fixture("electra-qa", "electra", "ElectraForQuestionAnswering", 3106, pairs=True)
    head_fixture("roberta-base", "roberta", "RobertaModel", 3107)
    head_fixture("electra-base", "electra", "ElectraModel", 3108)
    # hidden 8: XLM-R's 2501-piece vocabulary is most of the bytes
    st_fixture("st-xlm-roberta", "xlm-roberta", "XLMRobertaModel", 3109, 24,
               dict(hidden_size=8, num_hidden_layers=2, num_attention_heads=2, intermediate_size=16))
    st_fixture("st-distilroberta", "roberta", "RobertaModel", 3110, 20)


# ---------------------------------------------------------------- pipelines

NER_TEXTS = P.NER_TEXTS[:-1] + [
    " A leading space, then John Smith in Paris.",
    "Zebras and giraffes: Berliners, Parisians and Smithsonian.",
    "",
]


def entity_json(es):
    return [{k: (float(v) if k == "score" else int(v) if k in ("start", "end", "index") else v) for k, v in e.items()} for e in es]


def ner(name, family, cls_name, seed):
    import transformers
    from transformers import pipeline
    folder = os.path.join(OUT, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    tok = load_tokenizer(family, folder, raw=True)
    cls = getattr(transformers, cls_name)
    model = randomize(cls(config(family, len(tok), num_labels=len(LABELS), id2label=dict(enumerate(LABELS)),
                                 label2id={l: i for i, l in enumerate(LABELS)})), seed).eval()
    with torch.no_grad():
        emb = P.word_embeddings(model)
        for i in range(emb.shape[0]):
            emb[i, 6 + (i * 7) % len(LABELS)] += 3.0
        for k in range(len(LABELS)):
            model.classifier.weight[k, 6 + k] += 3.0
        model.classifier.weight.mul_(2.0)
    model.save_pretrained(folder)
    meta = finish_folder(folder, family, tok)
    model = cls.from_pretrained(folder).eval()
    ref = cls.from_pretrained(folder, attn_implementation="eager").double().eval()
    pipe = pipeline("token-classification", model=model, tokenizer=tok)
    cases = []
    for text in NER_TEXTS:
        enc = tok(text, truncation=True, return_offsets_mapping=True, return_tensors="pt")
        with torch.no_grad():
            logits = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).logits[0]
            logits64 = ref(input_ids=enc["input_ids"]).logits[0]
        cases.append({
            "text": text, "input_ids": enc["input_ids"][0].tolist(), "offsets": enc["offset_mapping"][0].tolist(),
            "tokens": tok.convert_ids_to_tokens(enc["input_ids"][0].tolist()),
            "logits": [f32(r) for r in logits], "logits64": [g10(r) for r in logits64],
            "outputs": {agg: entity_json(pipe(text, aggregation_strategy=agg)) for agg in P.AGGREGATIONS},
        })
    write_json(os.path.join(folder, "cases.json"), {**meta, "meta": versions(cls_name), "labels": LABELS, "cases": cases})
    print(f"{name}: {len(cases)} cases")


def versions(cls_name):
    return {"transformers": __import__("transformers").__version__, "tokenizers": __import__("tokenizers").__version__,
            "torch": torch.__version__, "model": cls_name}


def qa_cases():
    f = P.FILL
    return P.qa_cases() + [
        # a leading space, words split into pieces next to the answer, an accent in it
        {"question": " where?", "context": " " + P.context(f[:12] + ["zebraïsh", "giraffes", "unbelievably"] + f[:8]),
         "options": {"top_k": 3}},
        {"question": "qui?", "context": "Les Zébras de São Paulo: zebra Müller giraffe, et zebra-giraffe. " + P.context(f[:20]),
         "options": {"max_seq_len": 24, "doc_stride": 6, "top_k": 4}},
    ]


def qa(name, family, cls_name, seed):
    import transformers
    from transformers import pipeline
    folder = os.path.join(OUT, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    tok = load_tokenizer(family, folder)
    cls = getattr(transformers, cls_name)
    model = randomize(cls(config(family, len(tok))), seed).eval()
    with torch.no_grad():
        emb = P.word_embeddings(model)
        for word, dim in [("zebra", 0), ("giraffe", 1), ("Zebra", 0), ("Giraffe", 1)]:
            for ids in {tuple(tok(w, add_special_tokens=False)["input_ids"]) for w in [word, " " + word]}:
                emb[ids[0] if dim == 0 else ids[-1], dim] += 6.0
        model.qa_outputs.weight[0, 0] += 4.0
        model.qa_outputs.weight[1, 1] += 4.0
    model.save_pretrained(folder)
    meta = finish_folder(folder, family, tok)
    model = cls.from_pretrained(folder).eval()
    ref = cls.from_pretrained(folder).double().eval()
    pipe = pipeline("question-answering", model=model, tokenizer=tok)
    cases = []
    for c in qa_cases():
        o = c["options"]
        max_seq_len = o.get("max_seq_len", min(tok.model_max_length, 384))
        stride = o.get("doc_stride", min(max_seq_len // 2, 128))
        enc = tok(c["question"], c["context"], truncation="only_second", max_length=max_seq_len, stride=stride,
                  return_overflowing_tokens=True, return_offsets_mapping=True)
        windows = []
        for w in range(len(enc["input_ids"])):
            ids = torch.tensor([enc["input_ids"][w]])
            with torch.no_grad():
                out = model(input_ids=ids, attention_mask=torch.ones_like(ids))
                out64 = ref(input_ids=ids)
            windows.append({"input_ids": enc["input_ids"][w],
                            "start_logits": f32(out.start_logits[0]), "end_logits": f32(out.end_logits[0]),
                            "start_logits64": g10(out64.start_logits[0]), "end_logits64": g10(out64.end_logits[0])})
        got = pipe(question=c["question"], context=c["context"], **o)
        got = got if isinstance(got, list) else [got]
        expected = [{"answer": a["answer"], "score": float(a["score"]), "start": int(a["start"]), "end": int(a["end"])} for a in got]
        cases.append({**c, "windows": windows, "expected": expected})
        print(f"  {len(windows)} windows, {expected}")
    write_json(os.path.join(folder, "cases.json"), {**meta, "meta": versions(cls_name), "cases": cases})
    print(f"{name}: {len(cases)} cases")


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else ""
    if what == "tokenizer":
        make_bpe_tokenizer()
    elif what == "heads":
        build_heads()
    elif what == "ner":
        ner("ner-roberta-bpe", "roberta", "RobertaForTokenClassification", 3201)
        ner("ner-xlm-roberta-unigram", "xlm-roberta", "XLMRobertaForTokenClassification", 3202)
    elif what == "qa":
        import tokenizers
        import transformers
        if transformers.__version__ != "4.57.6" or tokenizers.__version__ >= "0.23.1":
            sys.exit("qa needs transformers 4.57.6 and tokenizers 0.22.x (see make_pipeline_fixtures.py)")
        qa("qa-roberta-bpe", "roberta", "RobertaForQuestionAnswering", 3203)
        qa("qa-xlm-roberta-unigram", "xlm-roberta", "XLMRobertaForQuestionAnswering", 3204)
    else:
        sys.exit("usage: make_family_task_fixtures.py tokenizer|heads|ner|qa")


if __name__ == "__main__":
    main()
