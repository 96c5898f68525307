"""Code that runs inside AWS: the model server, the Lambda handler and the drift job.

Nothing in this package imports aws_cdk; it is copied into container images as-is.
"""
