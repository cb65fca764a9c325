"""One scenario run: session, pipeline, produce ledger and probes, result, usage, and the run command."""
