"""The built-in plugin of flambe-core.

Registered by module path before any entry point, through the same hooks as
every other plugin. Importing it costs nothing: it only returns strings.
"""

from __future__ import annotations

from collections.abc import Mapping

from flambe.plugins import hookimpl
from flambe.plugins.types import LazyCommand

CORE_TAGS: dict[str, str] = {
    # links
    "@": "flambe.compile.link:Link",
    "link": "flambe.compile.link:Link",
    "Link": "flambe.compile.link:Link",
    "call": "flambe.compile.link:FunctionCallLink",
    "FunctionCallLink": "flambe.compile.link:FunctionCallLink",
    "$": "flambe.compile.link:PickledDataLink",
    "PickledDataLink": "flambe.compile.link:PickledDataLink",
    # runnables
    "Builder": "flambe.export.builder:Builder",
    "Exporter": "flambe.export.exporter:Exporter",
    "RemoteEnvironment": "flambe.runnable.environment:RemoteEnvironment",
    # experiments and search options
    "Experiment": "flambe.experiment.experiment:Experiment",
    "g": "flambe.experiment.options:GridSearchOptions",
    "GridSearchOptions": "flambe.experiment.options:GridSearchOptions",
    "s": "flambe.experiment.options:SampledUniformSearchOptions",
    "SampledUniformSearchOptions": "flambe.experiment.options:SampledUniformSearchOptions",
    "uniform": "flambe.experiment.options:UniformDistribution",
    "UniformDistribution": "flambe.experiment.options:UniformDistribution",
    "loguniform": "flambe.experiment.options:LogUniformDistribution",
    "LogUniformDistribution": "flambe.experiment.options:LogUniformDistribution",
    "randint": "flambe.experiment.options:IntegerDistribution",
    "IntegerDistribution": "flambe.experiment.options:IntegerDistribution",
    "choice": "flambe.experiment.options:ChoiceDistribution",
    "ChoiceDistribution": "flambe.experiment.options:ChoiceDistribution",
    # models and layers
    "Embeddings": "flambe.nn.embedding:Embeddings",
    "Embedder": "flambe.nn.embedding:Embedder",
    "RNNEncoder": "flambe.nn.rnn:RNNEncoder",
    "PooledRNNEncoder": "flambe.nn.rnn:PooledRNNEncoder",
    "CNNEncoder": "flambe.nn.cnn:CNNEncoder",
    "MLPEncoder": "flambe.nn.mlp:MLPEncoder",
    "MLPDecoder": "flambe.nn.mlp:MLPEncoder",
    "SoftmaxLayer": "flambe.nn.softmax:SoftmaxLayer",
    "MixtureOfSoftmax": "flambe.nn.mos:MixtureOfSoftmax",
    "Sequential": "flambe.nn.sequential:Sequential",
    "FirstPooling": "flambe.nn.pooling:FirstPooling",
    "LastPooling": "flambe.nn.pooling:LastPooling",
    "SumPooling": "flambe.nn.pooling:SumPooling",
    "AvgPooling": "flambe.nn.pooling:AvgPooling",
    "StructuredSelfAttentivePooling": "flambe.nn.pooling:StructuredSelfAttentivePooling",
    "GeneralizedPooling": "flambe.nn.pooling:GeneralizedPooling",
    "Transformer": "flambe.nn.transformer:Transformer",
    "TransformerEncoder": "flambe.nn.transformer:TransformerEncoder",
    "TransformerDecoder": "flambe.nn.transformer:TransformerDecoder",
    "TransformerEncoderLayer": "flambe.nn.transformer:TransformerEncoderLayer",
    "TransformerDecoderLayer": "flambe.nn.transformer:TransformerDecoderLayer",
    "EuclideanDistance": "flambe.nn.distance.euclidean:EuclideanDistance",
    "EuclideanMean": "flambe.nn.distance.euclidean:EuclideanMean",
    "CosineDistance": "flambe.nn.distance.cosine:CosineDistance",
    "CosineMean": "flambe.nn.distance.cosine:CosineMean",
    "HyperbolicDistance": "flambe.nn.distance.hyperbolic:HyperbolicDistance",
    "HyperbolicMean": "flambe.nn.distance.hyperbolic:HyperbolicMean",
    "LogisticRegression": "flambe.model.logistic_regression:LogisticRegression",
    # metrics and losses
    "Accuracy": "flambe.metric.dev.accuracy:Accuracy",
    "Recall": "flambe.metric.dev.accuracy:Recall",
    "AUC": "flambe.metric.dev.auc:AUC",
    "MultiClassAUC": "flambe.metric.dev.auc:MultiClassAUC",
    "BinaryAccuracy": "flambe.metric.dev.binary:BinaryAccuracy",
    "BinaryPrecision": "flambe.metric.dev.binary:BinaryPrecision",
    "BinaryRecall": "flambe.metric.dev.binary:BinaryRecall",
    "F1": "flambe.metric.dev.binary:F1",
    "Perplexity": "flambe.metric.dev.perplexity:Perplexity",
    "BPC": "flambe.metric.dev.perplexity:BPC",
    "MultiLabelCrossEntropy": "flambe.metric.loss.cross_entropy:MultiLabelCrossEntropy",
    "MultiLabelNLLLoss": "flambe.metric.loss.nll_loss:MultiLabelNLLLoss",
    # data
    "TabularDataset": "flambe.dataset.tabular:TabularDataset",
    "LabelField": "flambe.field.label:LabelField",
    "NumericField": "flambe.field.numeric:NumericField",
    "BaseSampler": "flambe.sampler.base:BaseSampler",
    "EpisodicSampler": "flambe.sampler.episodic:EpisodicSampler",
    # training
    "Trainer": "flambe.learn.trainer:Trainer",
    "Evaluator": "flambe.learn.evaluator:Evaluator",
    "DistillationTrainer": "flambe.learn.distillation:DistillationTrainer",
    "Script": "flambe.learn.script:Script",
    "LinearWarmupDecay": "flambe.optim.scheduler:LinearWarmupDecay",
    "WarmupLinearScheduler": "flambe.optim.scheduler:LinearWarmupDecay",
    "WarmupLinearSchedule": "flambe.optim.scheduler:LinearWarmupDecay",
    "ConstantWarmup": "flambe.optim.scheduler:ConstantWarmup",
    "WarmupConstantScheduler": "flambe.optim.scheduler:ConstantWarmup",
    "WarmupConstantSchedule": "flambe.optim.scheduler:ConstantWarmup",
    "NoamScheduler": "flambe.optim.scheduler:NoamScheduler",
}


# core's subcommands, declared like a plugin's: name -> where the click command is, and its help
CORE_COMMANDS: dict[str, LazyCommand] = {
    "run": LazyCommand(
        "flambe.cli.run:run",
        "Run a runnable config (an Experiment, a Builder...); KEY=VALUE overrides its values.",
    ),
    "validate": LazyCommand(
        "flambe.cli.validate:validate", "Check a config without running it; list every problem."
    ),
    "plan": LazyCommand(
        "flambe.cli.plan:plan",
        "Show what running a config would do: variants, reuse, time (runs nothing).",
    ),
    "reproduce": LazyCommand(
        "flambe.cli.reproduce:reproduce",
        "Rerun a recorded experiment (or a stage, a variant); compare the metrics.",
    ),
    "plugins": LazyCommand(
        "flambe.cli.plugins:plugins", "List installed plugins: versions, hooks, tags, errors."
    ),
    "schema": LazyCommand(
        "flambe.cli.schema:schema",
        "Write a JSON Schema of every tag, for completion and checking in editors.",
    ),
}


@hookimpl
def flambe_tags() -> Mapping[str, str]:
    """Core's tags: links, runnables, search options, layers, metrics, data and training."""
    return CORE_TAGS


@hookimpl
def flambe_tag_namespaces() -> Mapping[str, str]:
    """``!torch.<Name>``, ``!ray.<Name>`` and ``!search.<Name>``, resolved on first use."""
    return {
        "torch": "flambe.compile.namespaces:resolve_torch",
        "ray": "flambe.experiment.searchers:resolve_ray",
        "search": "flambe.experiment.searchers:resolve_search",
    }


@hookimpl
def flambe_search_algorithms() -> Mapping[str, str]:
    """Ray Tune's search algorithms (``!search.OptunaSearch`` is ``!ray.OptunaSearch``)."""
    from flambe.experiment.searchers import RAY_SEARCHERS

    return RAY_SEARCHERS


@hookimpl
def flambe_experiment_executors() -> Mapping[str, str]:
    """The ways core runs a stage: in this process, a local pool, Ray Tune (grid, search)."""
    from flambe.experiment.executors import CORE_EXECUTORS

    return CORE_EXECUTORS


@hookimpl
def flambe_storage_backends() -> Mapping[str, str]:
    """Local files and HTTP(S) URLs."""
    return {
        "file": "flambe.storage:LocalBackend",
        "http": "flambe.storage:HTTPBackend",
        "https": "flambe.storage:HTTPBackend",
    }


@hookimpl
def flambe_cli_commands() -> Mapping[str, LazyCommand]:
    """Core's subcommands (``flambe run``, ``validate``...): :data:`CORE_COMMANDS`."""
    return CORE_COMMANDS
