"""Stage 2: spaCy components that propose quotes, speakers, cues and outlets."""
