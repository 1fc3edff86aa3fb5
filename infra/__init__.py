"""Infrastructure: the lifecycle catalog, the CDK stacks and constructs, and the local runtime."""
