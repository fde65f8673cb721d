"""CI: the generated Robot suite for renode-test and the GitHub Actions workflow writer."""
