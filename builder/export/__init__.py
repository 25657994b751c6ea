"""Stage 4: versioned, immutable Hugging Face dataset folders."""
