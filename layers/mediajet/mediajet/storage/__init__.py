"""Files: BlobStore (local directory, S3), guarded input fetching, output path templates."""
