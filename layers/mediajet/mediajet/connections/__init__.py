"""Storage connections (`con_…`): a project's own S3-compatible buckets, with its credentials encrypted at rest.

- service.py: create, read, update, delete; one default per project
- access.py: which connection (or allowed bucket) serves a request's s3:// URLs; the client of a connection
- crypto.py: the ciphers that keep secrets (AES-GCM key in the data dir; KMS on AWS)
- endpoints.py: a connection endpoint's address policy (the SSRF guard of inputs)
"""
