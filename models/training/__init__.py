"""Training and evaluating the sentiment model (needs torch and transformers; not run-time code)."""
