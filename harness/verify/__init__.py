"""Verification: read the archive from S3 and hold it against what was produced (the ledger)."""
