"""The s3:// storage backend against a moto server: save, load, Builder destination, resource."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from flambe import storage
from flambe.storage import StorageError

pytestmark = pytest.mark.cluster


@pytest.fixture
def bucket(aws_env: str) -> str:
    import boto3

    name = f"flambe-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=name)
    return name


def test_s3_is_served_by_flambe_cluster() -> None:
    from flambe.cluster.storage import S3Backend

    assert isinstance(storage.get_backend("s3"), S3Backend)


def test_upload_download_file_and_folder(bucket: str, tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("alpha")
    (src / "sub" / "b.txt").write_text("beta")
    storage.upload(str(src), f"s3://{bucket}/folder")
    storage.upload(str(src / "a.txt"), f"s3://{bucket}/single.txt")
    assert storage.exists(f"s3://{bucket}/folder")
    assert storage.exists(f"s3://{bucket}/single.txt")
    assert not storage.exists(f"s3://{bucket}/nothing")
    with storage.open_local(f"s3://{bucket}/folder") as local:
        assert (Path(local) / "sub" / "b.txt").read_text() == "beta"
        assert (Path(local) / "a.txt").read_text() == "alpha"
    with storage.open_local(f"s3://{bucket}/single.txt") as local:
        assert Path(local).read_text() == "alpha"
    with pytest.raises(StorageError, match="nothing is at"):
        with storage.open_local(f"s3://{bucket}/missing"):
            pass


def test_missing_bucket_is_a_clear_error(aws_env: str, tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(StorageError, match="NoSuchBucket"):
        storage.upload(str(tmp_path / "f"), "s3://no-such-bucket-here/f")


def test_save_and_load_a_module(bucket: str) -> None:
    import torch

    import flambe
    from flambe.nn import MLPEncoder

    model = MLPEncoder(input_size=3, output_size=2, n_layers=1)
    flambe.save(model, f"s3://{bucket}/models/mlp")
    loaded = flambe.load(f"s3://{bucket}/models/mlp")
    x = torch.randn(4, 3)
    assert torch.equal(model(x), loaded(x))


def test_builder_destination_and_resource(bucket: str, tmp_path: Path) -> None:
    import subprocess
    import sys

    config = tmp_path / "builder.yaml"
    config.write_text(f"""!Builder
destination: s3://{bucket}/built/encoder
component: !MLPEncoder
  input_size: 3
  output_size: 2
  n_layers: 1
""")
    done = subprocess.run(
        [sys.executable, "-m", "flambe.cli", "run", str(config)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert storage.exists(f"s3://{bucket}/built/encoder")

    import flambe
    from flambe.experiment.resources import materialize

    loaded = flambe.load(f"s3://{bucket}/built/encoder")
    assert type(loaded).__name__ == "MLPEncoder"
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    storage.upload(str(tmp_path / "data.csv"), f"s3://{bucket}/data/data.csv")
    local = materialize({"data": f"s3://{bucket}/data/data.csv"})
    assert Path(local["data"]).read_text() == "a,b\n1,2\n"
