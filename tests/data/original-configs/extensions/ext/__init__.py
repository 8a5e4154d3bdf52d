"""The S3Pusher runnable of the original documentation (section 5, Runnables).

As written there (flambe-docs.txt lines 844-860), with the names its upload
loop got wrong (``s3C``, ``self.bucketname``) and its imports made whole.
"""

import os

from flambe.runnable import Runnable


class S3Pusher(Runnable):
    """Upload an experiment's output folder to an S3 bucket."""

    def __init__(self, experiment_path: str, bucket_name: str) -> None:
        super().__init__()
        self.experiment_path = experiment_path
        self.bucket_name = bucket_name

    def run(self, **kwargs) -> None:
        """Upload a local folder to a S3 bucket"""
        import boto3

        s3_client = boto3.client("s3")
        for root, _dirs, files in os.walk(self.experiment_path):
            for f in files:
                s3_client.upload_file(os.path.join(root, f), self.bucket_name, f)
